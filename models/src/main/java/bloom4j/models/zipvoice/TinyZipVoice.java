package bloom4j.models.zipvoice;

import bloom4j.nn.Embedding;
import bloom4j.nn.Graphs;
import bloom4j.nn.Init;
import bloom4j.nn.LoadOptions;
import bloom4j.nn.ParamSource;
import bloom4j.nn.Scope;
import bloom4j.tensor.io.SafeTensorsWriter;
import bloom4j.tensor.util.AtomicFiles;
import bloom4j.text.zipvoice.ZipVoiceJapaneseTokens;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A tiny ZipVoice and a tiny Vocos with random weights, written as the folders {@code bloom4j tts} reads (ZipVoice: model.json,
 * tokens.txt, model.safetensors; Vocos: config.yaml, model.safetensors). For demos and tests: they make noise, not speech.
 *
 * <p>The token table is bloom4j's own small one, not the released 360-entry table: the first 14 entries as the released table has
 * them ({@code _ ^ $}, space, punctuation), then every symbol bloom4j's tokenizers emit for Japanese (the extended table's phones),
 * Chinese (pinyin initials with {@code 0}, finals with tones 1–5) and English (the espeak-style IPA symbols).
 */
public final class TinyZipVoice {
    private TinyZipVoice() {}

    static final String[] HEAD = {"_", "^", "$", " ", "!", "'", "(", ")", ",", "-", ".", ":", ";", "?"};
    static final String IPA = "abdefhijklmnopstuvwzæðŋɐɑɔəɚɛɜɡɪɹɾʃʊʌʒθːˈˌ";
    static final String[] INITIALS = {"b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x", "zh", "ch", "sh", "r", "z",
            "c", "s", "y", "w"};
    static final String[] FINALS = {"a", "o", "e", "i", "u", "v", "ai", "ei", "ao", "ou", "an", "en", "ang", "eng", "ong", "er", "ia",
            "ie", "iao", "iu", "ian", "in", "iang", "ing", "iong", "ua", "uo", "uai", "ui", "uan", "un", "uang", "ueng", "ue", "ve", "van",
            "vn", "io", "n", "ng", "m"};

    /** The tiny table's tokens in id order. */
    public static List<String> tokens() {
        Set<String> t = new LinkedHashSet<>(List.of(HEAD));
        IPA.codePoints().forEach(c -> t.add(new String(Character.toChars(c))));
        t.addAll(new java.util.TreeSet<>(ZipVoiceJapaneseTokens.phones()));
        for (String i : INITIALS) t.add(i + "0");
        for (String f : FINALS) for (int tone = 1; tone <= 5; tone++) t.add(f + tone);
        return new ArrayList<>(t);
    }

    /** The tiny model's config: 5 stacks of one layer at width 32, text encoder width 24, 100 mel features as the released model. */
    public static ObjectNode modelJson(ObjectMapper om) {
        ObjectNode root = om.createObjectNode();
        ObjectNode m = root.putObject("model");
        m.putArray("fm_decoder_downsampling_factor").add(1).add(2).add(4).add(2).add(1);
        m.putArray("fm_decoder_num_layers").add(1).add(1).add(1).add(1).add(1);
        m.putArray("fm_decoder_cnn_module_kernel").add(7).add(5).add(3).add(5).add(7);
        m.put("fm_decoder_feedforward_dim", 64).put("fm_decoder_num_heads", 2).put("fm_decoder_dim", 32);
        m.put("text_encoder_num_layers", 1).put("text_encoder_feedforward_dim", 48).put("text_encoder_cnn_module_kernel", 5);
        m.put("text_encoder_num_heads", 2).put("text_encoder_dim", 24).put("time_embed_dim", 16).put("text_embed_dim", 16);
        m.put("query_head_dim", 8).put("value_head_dim", 6).put("pos_head_dim", 4).put("pos_dim", 16).put("feat_dim", 100);
        root.putObject("feature").put("sampling_rate", 24000).put("type", "vocos");
        return root;
    }

    /** Writes the ZipVoice folder {@code dir} (distill adds the guidance-scale embedding); returns {@code dir}. */
    public static Path writeModel(Path dir, long seed, boolean distill) throws IOException {
        ObjectMapper om = new ObjectMapper();
        ObjectNode json = modelJson(om);
        List<String> tokens = tokens();
        ZipVoiceConfig c = ZipVoiceConfig.fromJson(json.get("model"), tokens.size(), 0, distill, "tiny model.json");
        Map<String, INDArray> made = new TreeMap<>();
        Init normal = Init.normal(0.1, seed), embed = Init.normal(1.0, seed + 1);
        Init rule = Init.named("tiny random (recorded)", (key, shape, dt) -> {
            INDArray a;
            if (key.endsWith("bypass_scale")) a = Nd4j.valueArrayOf(shape, 0.5, dt);
            else if (key.equals("embed.weight")) a = embed.create(key, shape, dt);
            else if (shape.length >= 2) a = normal.create(key, shape, dt);
            else a = Nd4j.zeros(dt, shape);
            made.put(key, a.dup());
            return a;
        });
        LoadOptions opts = LoadOptions.inference().initMissing(rule);
        build(Scope.root(Graphs.create(), ParamSource.empty(), opts), c);
        Files.createDirectories(dir);
        AtomicFiles.write(dir.resolve("model.safetensors"), tmp -> SafeTensorsWriter.write(tmp, SafeTensorsWriter.arrays(made), Map.of("format", "pt")));
        AtomicFiles.writeString(dir.resolve("model.json"), om.writerWithDefaultPrettyPrinter().writeValueAsString(json));
        StringBuilder t = new StringBuilder();
        for (int i = 0; i < tokens.size(); i++) t.append(tokens.get(i)).append('\t').append(i).append('\n');
        AtomicFiles.writeString(dir.resolve("tokens.txt"), t.toString());
        return dir;
    }

    private static void build(Scope root, ZipVoiceConfig c) {
        SameDiff sd = root.sd();
        int f = c.featDim();
        var x = sd.placeHolder("x", DataType.FLOAT, 8, 3L * f);
        var mask = sd.placeHolder("fm_mask", DataType.FLOAT, 1, 8);
        var t = sd.placeHolder("t", DataType.FLOAT, 1);
        var g = c.distill() ? sd.placeHolder("g", DataType.FLOAT, 1) : null;
        TtsZipformer.build(root.pp("fm_decoder"), TtsZipformer.Shape.fmDecoder(c), 1, 8, new TtsZipformer.Inputs(x, mask, t, g));
        var ids = sd.placeHolder("ids", DataType.INT64, 1, 4);
        var tmask = sd.placeHolder("text_mask", DataType.FLOAT, 1, 4);
        var e = Embedding.load(root.pp("embed"), c.vocabSize(), c.textEmbedDim()).forwardRows(ids);
        TtsZipformer.build(root.pp("text_encoder"), TtsZipformer.Shape.textEncoder(c), 1, 4, new TtsZipformer.Inputs(e, tmask, null, null));
    }

    /** Writes a tiny Vocos folder (width 32, 2 ConvNeXt blocks, the released n_fft 1024 and hop 256); returns {@code dir}. */
    public static Path writeVocoder(Path dir, long seed) throws IOException {
        int d = 32, inter = 64, layers = 2, mels = VocosFbank.N_MELS, out = VocosFbank.N_FFT + 2;
        Init normal = Init.normal(0.02, seed);
        Map<String, INDArray> w = new LinkedHashMap<>();
        java.util.function.BiConsumer<String, long[]> rand = (k, s) -> w.put(k, normal.create(k, s, DataType.FLOAT));
        rand.accept("backbone.embed.weight", new long[] {d, mels, 7});
        w.put("backbone.embed.bias", Nd4j.zeros(DataType.FLOAT, d));
        w.put("backbone.norm.weight", Nd4j.ones(DataType.FLOAT, d));
        w.put("backbone.norm.bias", Nd4j.zeros(DataType.FLOAT, d));
        for (int i = 0; i < layers; i++) {
            String p = "backbone.convnext." + i + ".";
            rand.accept(p + "dwconv.weight", new long[] {d, 1, 7});
            w.put(p + "dwconv.bias", Nd4j.zeros(DataType.FLOAT, d));
            w.put(p + "norm.weight", Nd4j.ones(DataType.FLOAT, d));
            w.put(p + "norm.bias", Nd4j.zeros(DataType.FLOAT, d));
            rand.accept(p + "pwconv1.weight", new long[] {inter, d});
            w.put(p + "pwconv1.bias", Nd4j.zeros(DataType.FLOAT, inter));
            rand.accept(p + "pwconv2.weight", new long[] {d, inter});
            w.put(p + "pwconv2.bias", Nd4j.zeros(DataType.FLOAT, d));
            w.put(p + "gamma", Nd4j.valueArrayOf(new long[] {d}, 0.1f));
        }
        w.put("backbone.final_layer_norm.weight", Nd4j.ones(DataType.FLOAT, d));
        w.put("backbone.final_layer_norm.bias", Nd4j.zeros(DataType.FLOAT, d));
        rand.accept("head.out.weight", new long[] {out, d});
        INDArray bias = Nd4j.zeros(DataType.FLOAT, out);
        bias.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, out / 2)).assign(3f);   // |S| ≈ e³: noise well above the −50 dBFS trim
        w.put("head.out.bias", bias);
        Files.createDirectories(dir);
        AtomicFiles.write(dir.resolve("model.safetensors"), tmp -> SafeTensorsWriter.write(tmp, SafeTensorsWriter.arrays(w), Map.of("format", "pt")));
        AtomicFiles.writeString(dir.resolve("config.yaml"), String.join("\n",
                "feature_extractor:", "  class_path: vocos.feature_extractors.MelSpectrogramFeatures", "  init_args:",
                "    sample_rate: 24000", "    n_fft: 1024", "    hop_length: 256", "    n_mels: 100", "    padding: center",
                "backbone:", "  class_path: vocos.models.VocosBackbone", "  init_args:", "    input_channels: 100", "    dim: " + d,
                "    intermediate_dim: " + inter, "    num_layers: " + layers, "head:", "  class_path: vocos.heads.ISTFTHead",
                "  init_args:", "    dim: " + d, "    n_fft: 1024", "    hop_length: 256", "    padding: center", ""));
        return dir;
    }
}
