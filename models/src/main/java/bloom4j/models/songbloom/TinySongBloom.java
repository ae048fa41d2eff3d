package bloom4j.models.songbloom;

import bloom4j.models.songbloom.dit.DitConfig;
import bloom4j.models.songbloom.dit.LocalDit;
import bloom4j.models.vae.OobleckVae;
import bloom4j.nn.Graphs;
import bloom4j.nn.Init;
import bloom4j.nn.LoadOptions;
import bloom4j.nn.ParamSource;
import bloom4j.nn.Scope;
import bloom4j.tensor.io.SafeTensorsWriter;
import bloom4j.tensor.util.AtomicFiles;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A tiny SongBloom with random weights, written as a model folder that {@link SongGenerator#load} reads like a converted release:
 * {@link SongBloomConfig#tiny()} for the AR and DiT (width 80, 2 + 2 layers, 32 sketch codes, blocks of 4, 8 latents) and a
 * 4-channel Oobleck VAE with the release's strides (48 kHz, 1920 samples per latent frame, 25 Hz), VAE keys under {@code vae.vae.}
 * as in the release .pt. For demos and tests: it makes noise, not music.
 *
 * <p>The weights are those the loaders ask for, each made by one seeded rule (N(0, 0.02) matrices, unit norm weights, zero biases,
 * N(0, 1) Fourier frequencies) and recorded. The EOS logit's bias is set to −20 so that a run goes on to its length limit rather than
 * stopping after a random EOS.
 */
public final class TinySongBloom {
    private TinySongBloom() {}

    /** The tiny VAE's JSON config (stable-audio-tools layout). */
    public static ObjectNode vaeConfig(ObjectMapper om) {
        ObjectNode root = om.createObjectNode();
        root.put("model_type", "autoencoder").put("sample_rate", 48000).put("audio_channels", 2);
        ObjectNode model = root.putObject("model");
        for (String part : new String[] {"encoder", "decoder"}) {
            ObjectNode e = model.putObject(part);
            e.put("type", "oobleck");
            ObjectNode c = e.putObject("config");
            c.put(part.equals("encoder") ? "in_channels" : "out_channels", 2).put("channels", 4);
            ArrayNode cm = c.putArray("c_mults");
            List.of(1, 2, 2, 2, 2).forEach(cm::add);
            ArrayNode st = c.putArray("strides");
            List.of(2, 4, 4, 6, 10).forEach(st::add);
            c.put("latent_dim", part.equals("encoder") ? 16 : 8).put("use_snake", true);
            if (part.equals("decoder")) c.put("final_tanh", false);
        }
        model.putObject("bottleneck").put("type", "vae");
        model.put("latent_dim", 8).put("downsampling_ratio", 1920).put("io_channels", 2);
        return root;
    }

    /** Writes the model folder {@code dir} (config.json + model.safetensors) atomically per file; returns {@code dir}. */
    /** Lyric condition rows of the tiny model (the conditioner keeps this many tokens). */
    public static final int LYRIC_ROWS = 64;

    public static Path write(Path dir, long seed) throws IOException {
        SongBloomConfig t = SongBloomConfig.tiny();   // with room for a real lyric: 64 lyric rows instead of the fixtures' 12
        SongBloomConfig c = new SongBloomConfig(t.dim(), t.numHeads(), t.lmLayers(), t.hiddenScale(), t.ropeTheta(), t.rmsNormEps(),
                t.numPitch(), t.blockSize(), t.latentDim(), t.diffLayers(), t.promptMaxLen(), LYRIC_ROWS, t.maxSentencePerStructure());
        Map<String, INDArray> made = new TreeMap<>();
        Init normal = Init.normal(0.02, seed), unit = Init.normal(1.0, seed + 1);
        Init rule = Init.named("tiny random (recorded)", (key, shape, dt) -> {
            INDArray a;
            if (key.endsWith("timestep_features.weight")) a = unit.create(key, shape, dt);
            else if (shape.length >= 2 || key.endsWith("bos_token")) a = normal.create(key, shape, dt);
            else if (key.endsWith(".weight") || key.endsWith(".gamma")) a = Nd4j.ones(dt, shape);
            else a = Nd4j.zeros(dt, shape);
            made.put(key, a.dup());                          // the graph may take over (and free) what it is given
            return a;
        });
        LoadOptions opts = LoadOptions.inference().initMissing(rule);
        // The lyric tables are read by shape, so they are made first: rows 0 zero (padding_idx), blank_emb zero.
        Map<String, INDArray> lyric = new LinkedHashMap<>();
        String lp = LyricConditioner.PREFIX;
        INDArray e = normal.create(lp + "output_proj.weight", new long[] {LyricVocabulary.released().size(), c.dim()}, DataType.FLOAT);
        INDArray st = normal.create(lp + "sentence_idx_in_structure_emb.weight", new long[] {c.maxSentencePerStructure(), c.dim()},
                DataType.FLOAT);
        e.getRow(0).assign(0);
        st.getRow(0).assign(0);
        lyric.put(lp + "output_proj.weight", e);
        lyric.put(lp + "sentence_idx_in_structure_emb.weight", st);
        lyric.put(lp + "blank_emb", Nd4j.zeros(DataType.FLOAT, 1, c.dim()));
        lyric.forEach((k, v) -> made.put(k, v.dup()));
        SongBloomAr.load(c, ParamSource.of(lyric), opts, 2);
        DitConfig dc = new DitConfig(c.dim(), c.numHeads(), c.diffLayers(), c.latentDim(), c.blockSize(), c.hiddenScale(), 32,
                DitConfig.ROTARY_BASE, DitConfig.LAYER_NORM_EPS);
        LocalDit.build(Scope.root(Graphs.create(), ParamSource.empty(), opts).pp("model"), dc);
        Map<String, INDArray> vae = new LinkedHashMap<>();
        Init vaeRule = Init.named("tiny VAE (recorded)", (key, shape, dt) -> {
            INDArray a = shape.length >= 2 ? Init.kaimingUniform(Math.sqrt(5), seed + 2).create(key, shape, dt) : Nd4j.zeros(dt, shape);
            vae.put("vae.vae." + key, a.dup());
            return a;
        });
        OobleckVae.random(bloom4j.models.vae.OobleckConfig.fromJson(vaeConfig(new ObjectMapper())), OobleckVae.Parts.ALL, vaeRule);
        made.putAll(vae);
        INDArray bias = made.get("model.skeleton_classifier.2.bias");
        bias.putScalar(c.sketchVocabulary().eos(), -20f);

        ObjectMapper om = new ObjectMapper();
        ObjectNode cfg = om.createObjectNode();
        cfg.put("model_type", "songbloom");
        ObjectNode up = cfg.putObject("upstream_config");
        ObjectNode m = up.putObject("model");
        m.put("dim", c.dim()).put("num_heads", c.numHeads()).put("lm_layers", c.lmLayers()).put("hidden_scale", c.hiddenScale())
                .put("rotary_base_val", c.ropeTheta()).put("num_pitch", c.numPitch()).put("block_size", c.blockSize())
                .put("latent_dim", c.latentDim()).put("diff_layers", c.diffLayers()).put("timestep_features_dim", 32);
        ObjectNode cond = m.putObject("condition_provider_cfg");
        cond.putObject("prompt_wav").put("max_len", c.promptMaxLen());
        cond.putObject("lyrics").put("max_len", c.lyricsMaxLen()).put("max_sentence_per_structure", c.maxSentencePerStructure());
        up.set("vae_config", vaeConfig(om));
        up.putObject("inference").put("cfg_coef", 1.5).put("temp", 0.9).put("diff_temp", 0.95).put("top_k", 10)
                .put("penalty_repeat", true).put("penalty_window", 50).put("steps", 8);
        up.put("max_dur", 10);
        Files.createDirectories(dir);
        Map<String, INDArray> out = new LinkedHashMap<>();
        made.forEach((k, v) -> out.put(k, v.castTo(DataType.FLOAT)));
        AtomicFiles.write(dir.resolve("model.safetensors"),
                tmp -> SafeTensorsWriter.write(tmp, SafeTensorsWriter.arrays(out), Map.of("format", "pt")));
        AtomicFiles.writeString(dir.resolve("config.json"), om.writerWithDefaultPrettyPrinter().writeValueAsString(cfg));
        return dir;
    }
}
