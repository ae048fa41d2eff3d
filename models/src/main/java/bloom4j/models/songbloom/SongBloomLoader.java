package bloom4j.models.songbloom;

import bloom4j.models.vae.OobleckConfig;
import bloom4j.models.vae.OobleckVae;
import bloom4j.nn.lora.PeftAdapter;
import bloom4j.tensor.io.CheckpointException;
import bloom4j.tensor.io.Checkpoints;
import bloom4j.tensor.io.ModelFolder;
import bloom4j.tensor.io.TensorSource;
import bloom4j.tensor.io.TensorSources;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Loading a SongBloom model folder, apart from generating with it ({@link SongGenerator}): the folder's config.json read once
 * ({@link ModelFolder}), the model config resolved against the weights, the generation defaults ({@link InferenceConfig}), an
 * optional PEFT adapter merged into the weights, and the VAE from the folder or a separate checkpoint, with its config found as
 * {@link #vaeConfig} says. {@link SongBloomModel#load} ends with the completeness report.
 */
public final class SongBloomLoader {
    private SongBloomLoader() {}

    /** A loaded model, its generation defaults and the folder it came from. */
    public record Loaded(SongBloomModel model, InferenceConfig inference, ModelFolder folder) { }

    /**
     * @param modelDir a folder made by {@code bloom4j convert} ({@code model_type} "songbloom", the YAML under {@code upstream_config})
     * @param vae      a separate VAE checkpoint or VAE model folder when the model folder has no VAE weights, or null
     * @param lora     a PEFT LoRA/DoRA adapter folder to merge into the weights, or null
     */
    public static Loaded load(Path modelDir, Path vae, Path lora) throws IOException {
        ModelFolder folder;
        try {
            folder = ModelFolder.open(modelDir).requireType("songbloom");
        } catch (CheckpointException e) {
            throw new SongBloomWeightException(e.getMessage());
        }
        InferenceConfig inference;
        try {
            inference = InferenceConfig.parse(folder.upstream(), folder.configFile() + " upstream_config");
        } catch (IllegalArgumentException e) {
            throw new SongBloomWeightException(e.getMessage());
        }
        try (TensorSource checkpoint = folder.openWeights()) {
            TensorSource src = checkpoint;
            if (lora != null) {
                Path adapterDir = adapterFolder(lora);
                src = withTrainedTensors(folder, src, adapterDir);
                src = withAdapterMerged(src, adapterDir);
            }
            SongBloomConfig c = SongBloomConfig.fromModelFolder(folder, src);
            OobleckConfig vaeConfig = vaeConfig(folder, vae);
            SongBloomModel m;
            if (vae != null) {
                try (TensorSource v = Checkpoints.open(vae)) {
                    m = SongBloomModel.load(c, src, v, vaeConfig);
                }
            } else {
                try {
                    OobleckVae.detectPrefix(src);
                } catch (IllegalArgumentException e) {
                    throw new SongBloomWeightException(modelDir + ": no VAE weights in the model folder (the release .pt has them under "
                            + "'vae.vae.'); give the VAE checkpoint (autoencoder_music_dsp1920.ckpt) with --vae");
                }
                m = SongBloomModel.load(c, src, src, vaeConfig);
            }
            return new Loaded(m, inference, folder);
        }
    }

    /** The fine-tuning output's tensors file beside the PEFT files ({@code bloom4j train}). */
    public static final String TRAINED_TENSORS = "trainable_extra.safetensors";

    /**
     * The adapter folder {@code --lora} names: a PEFT folder itself, or a {@code bloom4j train} run folder (its {@code adapter/}).
     */
    public static Path adapterFolder(Path lora) throws IOException {
        if (Files.isRegularFile(lora.resolve(PeftAdapter.CONFIG_FILE))) return lora;
        Path inRun = lora.resolve("adapter");
        if (Files.isRegularFile(inRun.resolve(PeftAdapter.CONFIG_FILE))) return inRun;
        throw new SongBloomWeightException("--lora " + lora + ": " + PeftAdapter.CONFIG_FILE + " is missing; give a PEFT adapter folder (" + PeftAdapter.CONFIG_FILE + " + "
                + PeftAdapter.WEIGHTS_FILE + ") or a bloom4j train run folder (RUN, RUN/last, RUN/best-1)");
    }

    /**
     * The weights with a fine-tuning run's fully trained tensors ({@value #TRAINED_TENSORS}: lyric rows, sketch tables) over them, after
     * checking that the run trained on these base weights (the SHA-256 it recorded): a different base would pair trained rows with
     * weights they were never trained with.
     */
    static TensorSource withTrainedTensors(ModelFolder folder, TensorSource base, Path adapterDir) throws IOException {
        Path extra = adapterDir.resolve(TRAINED_TENSORS);
        if (!Files.isRegularFile(extra)) return base;
        Map<String, String> meta = Checkpoints.metadata(extra);
        String want = meta.get("base_sha256");
        if (want != null) {
            String have = folder.weightsSha256();
            if (!want.equals(have)) {
                throw new SongBloomWeightException(adapterDir + " was trained on base weights with SHA-256 " + want + ", but " + folder.dir()
                        + " holds weights with SHA-256 " + have + ": use the model folder the run was trained from");
            }
        }
        Map<String, INDArray> top = new java.util.LinkedHashMap<>();
        try (TensorSource e = Checkpoints.open(extra)) {
            for (String k : e.names()) {
                if (!base.contains(k)) {
                    throw new SongBloomWeightException(extra + ": tensor '" + k + "' is not a weight of " + folder.dir());
                }
                INDArray v = e.load(k, org.nd4j.linalg.api.buffer.DataType.FLOAT);
                long[] shape = base.info(k).shape();
                if (!java.util.Arrays.equals(shape, v.shape())) {
                    throw new SongBloomWeightException(extra + ": '" + k + "' is " + java.util.Arrays.toString(v.shape()) + ", the model's is "
                            + java.util.Arrays.toString(shape));
                }
                top.put(k, v);
            }
        }
        return TensorSources.overlay(base, top);
    }

    /**
     * Only the VAE of a SongBloom model folder (or of the separate {@code vae} checkpoint), config found as {@link #vaeConfig} says:
     * what caching latents for fine-tuning needs, without the AR and DiT in memory.
     */
    public static OobleckVae loadVae(Path modelDir, Path vae) throws IOException {
        ModelFolder folder;
        try {
            folder = ModelFolder.open(modelDir).requireType("songbloom");
        } catch (CheckpointException e) {
            throw new SongBloomWeightException(e.getMessage());
        }
        OobleckConfig vaeConfig = vaeConfig(folder, vae);
        try (TensorSource src = vae != null ? Checkpoints.open(vae) : folder.openWeights()) {
            String prefix;
            try {
                prefix = OobleckVae.detectPrefix(src);
            } catch (IllegalArgumentException e) {
                throw new SongBloomWeightException(src.description() + ": no VAE weights (the release .pt has them under 'vae.vae.');"
                        + " give the VAE checkpoint (autoencoder_music_dsp1920.ckpt) with --vae");
            }
            return OobleckVae.load(src, prefix, vaeConfig, OobleckVae.Parts.ALL);
        }
    }

    /**
     * The checkpoint with a PEFT LoRA/DoRA adapter merged into its weights ({@code merge_and_unload}, safe: non-finite results are
     * refused). PEFT names modules from the model it wrapped: the SongBloom module itself ({@code ar_transformer.…}) or the Lightning
     * module around it ({@code model.ar_transformer.…}); both are accepted.
     */
    static TensorSource withAdapterMerged(TensorSource checkpoint, Path adapterDir) throws IOException {
        PeftAdapter adapter = PeftAdapter.read(adapterDir);
        boolean underModel = adapter.modules().stream().noneMatch(m -> checkpoint.contains(m + ".weight"));
        Map<String, INDArray> merged = adapter.mergeInto(checkpoint, underModel ? "model" : "", true);
        return TensorSources.overlay(checkpoint, merged);
    }

    /**
     * The VAE's config, first found of: the YAML's {@code vae_config} block; the {@code --vae} model folder's own config (made by
     * {@code bloom4j convert --model vae --config vae.json}); a {@code vae_config.json} in the model folder or next to the
     * {@code --vae} checkpoint; else SongBloom's released {@code stable_audio_1920_vae.json} ({@link OobleckConfig#songBloom}).
     */
    static OobleckConfig vaeConfig(ModelFolder folder, Path vae) throws IOException {
        JsonNode up = folder.upstream();
        if (up != null && up.path("vae_config").isObject()) return OobleckConfig.fromJson(up.get("vae_config"));
        if (vae != null && ModelFolder.isModelFolder(vae)) {
            ModelFolder v = ModelFolder.open(vae).requireType("vae");
            if (v.upstream() != null) return OobleckConfig.fromJson(v.upstream());
        }
        Path beside = vae == null ? null : (Files.isDirectory(vae) ? vae : vae.toAbsolutePath().getParent()).resolve("vae_config.json");
        for (Path p : new Path[] {folder.file("vae_config.json"), beside}) {
            if (p != null && Files.isRegularFile(p)) return OobleckConfig.fromJson(new ObjectMapper().readTree(p.toFile()));
        }
        return OobleckConfig.songBloom();
    }
}
