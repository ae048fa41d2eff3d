package bloom4j.models.zipvoice;

import bloom4j.models.GaussianNoise;
import bloom4j.nn.Embedding;
import bloom4j.nn.Graphs;
import bloom4j.nn.LoadOptions;
import bloom4j.nn.ParamSource;
import bloom4j.nn.Params;
import bloom4j.nn.Scope;
import bloom4j.tensor.io.TensorSource;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * ZipVoice and ZipVoice-Distill inference (k2-fsa/ZipVoice@2f7326f {@code zipvoice/models/zipvoice.py}, {@code zipvoice_distill.py}):
 * the text encoder, the average-upsampled text condition, the FM decoder and the t-shifted Euler sampler with time-dependent CFG.
 *
 * <p>The weights are read once; the two networks are SameDiff graphs built per input shape (the relative-position shift and the
 * down-sampling need the lengths as numbers) over those same arrays, the last two shapes of each kept. A sampler run uses one shape
 * for all its steps.
 */
public final class ZipVoiceModel {
    /** Upstream's inference scale of the log-mel features ({@code --feat-scale}). */
    public static final float FEAT_SCALE = 0.1f;

    private final ZipVoiceConfig config;
    private final ParamSource weights;
    private final Map<List<Long>, FmGraph> fmGraphs = lru();
    private final Map<List<Long>, TextGraph> textGraphs = lru();

    private ZipVoiceModel(ZipVoiceConfig config, ParamSource weights) {
        this.config = config;
        this.weights = weights;
    }

    /**
     * Reads every tensor of {@code src} (float32) and checks it against {@code config}: every key of the checkpoint must be used and
     * none missing (upstream loads with {@code strict=True}); a {@code module.} prefix (DDP) is not accepted here, convert first.
     */
    public static ZipVoiceModel load(TensorSource src, ZipVoiceConfig config) throws java.io.IOException {
        Map<String, INDArray> w = new LinkedHashMap<>();
        for (String k : src.names()) w.put(k, src.load(k, DataType.FLOAT));
        ZipVoiceModel m = new ZipVoiceModel(config, ParamSource.shared(w, src.description()));
        m.checkComplete();
        return m;
    }

    /**
     * A ZipVoice model folder as upstream's {@code infer_zipvoice.py} reads it (L757-816): {@code model.json}, {@code tokens.txt} and
     * {@code model.safetensors} or {@code model.pt} ({@code {"model": state_dict}}), or a folder {@code bloom4j convert} wrote (the
     * same three files). Distill is recognised by its {@code fm_decoder.guidance_scale_embed.weight}.
     */
    public static ZipVoiceModel load(java.nio.file.Path dir) throws java.io.IOException {
        Files files = Files.of(dir);
        bloom4j.text.zipvoice.TokenTable tokens = bloom4j.text.zipvoice.TokenTable.read(files.tokens());
        try (TensorSource src = bloom4j.tensor.io.Checkpoints.open(files.weights())) {
            boolean distill = src.contains("fm_decoder.guidance_scale_embed.weight");
            ZipVoiceConfig c = ZipVoiceConfig.fromJson(files.modelJson().get("model"), tokens.vocabSize(), tokens.padId(), distill,
                    files.config().toString());
            long[] embed = src.contains("embed.weight") ? src.info("embed.weight").shape() : null;
            if (embed != null && embed[0] != tokens.vocabSize()) {
                throw new IllegalArgumentException(files.tokens() + " has " + tokens.vocabSize() + " tokens but embed.weight in "
                        + files.weights() + " has " + embed[0] + " rows: the token file does not belong to this model");
            }
            return load(src, c);
        }
    }

    /** The three files of a ZipVoice model folder. */
    public record Files(java.nio.file.Path config, java.nio.file.Path tokens, java.nio.file.Path weights,
                        com.fasterxml.jackson.databind.JsonNode modelJson) {
        /** Finds them in {@code dir}; a missing one is an error naming the folder and what was looked for. */
        public static Files of(java.nio.file.Path dir) throws java.io.IOException {
            if (!java.nio.file.Files.isDirectory(dir)) throw new java.io.FileNotFoundException("ZipVoice model folder " + dir + " does not exist");
            java.nio.file.Path json = dir.resolve("model.json"), tok = dir.resolve("tokens.txt");
            java.nio.file.Path st = dir.resolve("model.safetensors"), pt = dir.resolve("model.pt");
            if (!java.nio.file.Files.isRegularFile(json)) throw new java.io.FileNotFoundException(dir + ": no model.json (ZipVoice's config)");
            if (!java.nio.file.Files.isRegularFile(tok)) throw new java.io.FileNotFoundException(dir + ": no tokens.txt (ZipVoice's token table)");
            java.nio.file.Path w = java.nio.file.Files.isRegularFile(st) ? st : pt;
            if (!java.nio.file.Files.isRegularFile(w)) throw new java.io.FileNotFoundException(dir + ": no model.safetensors or model.pt");
            com.fasterxml.jackson.databind.JsonNode node;
            try {
                node = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json.toFile());
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalArgumentException(json + ": not valid JSON (" + e.getOriginalMessage() + " at line "
                        + e.getLocation().getLineNr() + ")");
            }
            if (node == null || !node.has("model")) throw new IllegalArgumentException(json + ": expected a \"model\" object (ZipVoice's model.json)");
            return new Files(json, tok, w, node);
        }
    }

    private void checkComplete() {
        LoadOptions deferred = LoadOptions.inference().deferMissing(true);
        Scope fm = Scope.root(Graphs.create(), weights, deferred), text = Scope.root(Graphs.create(), weights, deferred);
        new FmGraph(fm, 1, 1);
        new TextGraph(text, 1, 1);
        Map<String, long[]> missing = new LinkedHashMap<>(fm.params().missing());
        missing.putAll(text.params().missing());
        List<String> unused = weights.keys().stream()
                .filter(k -> !fm.params().consumed().contains(k) && !text.params().consumed().contains(k)).toList();
        Params.requireComplete(weights.description(), missing, unused, weights::shape,
                "check model.json (and tokens.txt for embed.weight) against the checkpoint");
    }

    public ZipVoiceConfig config() { return config; }

    // ------------------------------------------------------------------------------------------------------------ FM decoder

    /** One FM-decoder call and the activations parity compares (stacks time-major as upstream's hooks see them: {@code [T, B, D]}). */
    public record FmTrace(INDArray velocity, INDArray timeSinusoid, INDArray timeEmbed, INDArray inProj, List<INDArray> stacks) { }

    /**
     * {@code forward_fm_decoder}: velocity {@code [B, T, feat]} of {@code x_t}, text and speech conditions (each {@code [B, T, feat]}),
     * {@code t [B]}, pad mask {@code [B, T]} (nonzero = padded; null = none) and, for ZipVoice-Distill, the guidance scale
     * {@code [B]}.
     */
    public INDArray velocity(INDArray x, INDArray text, INDArray speech, INDArray t, INDArray padMask, INDArray guidance) {
        return fm(x, t, guidance).run(x, text, speech, t, padMask, guidance, false).velocity();
    }

    public FmTrace traceVelocity(INDArray x, INDArray text, INDArray speech, INDArray t, INDArray padMask, INDArray guidance) {
        return fm(x, t, guidance).run(x, text, speech, t, padMask, guidance, true);
    }

    private FmGraph fm(INDArray x, INDArray t, INDArray guidance) {
        if (x.rank() != 3 || x.size(2) != config.featDim()) {
            throw new IllegalArgumentException("x_t must be [B, T, " + config.featDim() + "], got " + java.util.Arrays.toString(x.shape()));
        }
        if (t.length() != x.size(0)) throw new IllegalArgumentException("t must have one value per batch item (" + x.size(0) + ")");
        if (config.distill() && guidance == null) throw new IllegalArgumentException("ZipVoice-Distill needs a guidance scale per item");
        if (!config.distill() && guidance != null) throw new IllegalArgumentException("only ZipVoice-Distill takes a guidance-scale input");
        long b = x.size(0), len = x.size(1);
        return fmGraphs.computeIfAbsent(List.of(b, len), k -> new FmGraph(Scope.root(Graphs.create(), weights, LoadOptions.inference()), b, len));
    }

    private final class FmGraph {
        final SameDiff sd;
        final long b, t;
        final TtsZipformer.Outputs out;

        FmGraph(Scope root, long b, long t) {
            this.sd = root.sd();
            this.b = b;
            this.t = t;
            DataType dt = root.dtype();
            int f = config.featDim();
            SDVariable x = sd.placeHolder("x", dt, b, t, f), text = sd.placeHolder("text", dt, b, t, f);
            SDVariable speech = sd.placeHolder("speech", dt, b, t, f), tt = sd.placeHolder("t", dt, b);
            SDVariable mask = sd.placeHolder("pad_mask", dt, b, t);
            SDVariable g = config.distill() ? sd.placeHolder("guidance", dt, b) : null;
            SDVariable in = sd.concat(2, x, text, speech).reshape(b * t, 3L * f);
            out = TtsZipformer.build(root.pp("fm_decoder"), TtsZipformer.Shape.fmDecoder(config), b, t,
                    new TtsZipformer.Inputs(in, mask, tt, g));
        }

        FmTrace run(INDArray x, INDArray text, INDArray speech, INDArray tv, INDArray padMask, INDArray g, boolean all) {
            Map<String, INDArray> feed = new LinkedHashMap<>();
            feed.put("x", x.castTo(DataType.FLOAT));
            feed.put("text", text.castTo(DataType.FLOAT));
            feed.put("speech", speech.castTo(DataType.FLOAT));
            feed.put("t", tv.castTo(DataType.FLOAT).reshape(b));
            feed.put("pad_mask", padMask == null ? Nd4j.zeros(DataType.FLOAT, b, t) : padMask.neq(0).castTo(DataType.FLOAT));
            if (g != null) feed.put("guidance", g.castTo(DataType.FLOAT).reshape(b));
            List<String> names = new ArrayList<>(List.of(out.out().name()));
            if (all) {
                names.add(out.timeSinusoid().name());
                names.add(out.timeEmbed().name());
                names.add(out.inProj().name());
                for (SDVariable s : out.stacks()) names.add(s.name());
            }
            Map<String, INDArray> r = sd.output(feed, names.toArray(new String[0]));
            if (!all) return new FmTrace(r.get(out.out().name()), null, null, null, List.of());
            List<INDArray> stacks = new ArrayList<>();
            for (SDVariable s : out.stacks()) stacks.add(timeMajor(r.get(s.name())));
            return new FmTrace(r.get(out.out().name()), r.get(out.timeSinusoid().name()), r.get(out.timeEmbed().name()),
                    timeMajor(r.get(out.inProj().name())), stacks);
        }

        INDArray timeMajor(INDArray rows) { return rows.reshape(b, t, rows.size(1)).permute(1, 0, 2).dup('c'); }
    }

    // ---------------------------------------------------------------------------------------------------------- text encoder

    /** The text encoder's output {@code [B, S, feat]} and the embedding {@code [B, S, text_embed_dim]} of the padded ids. */
    public record TextEncoding(INDArray encoded, INDArray embedded, int[] lengths) { }

    /**
     * {@code forward_text_embed}: each sequence gets one pad id appended ({@code pad_labels}), the batch is padded to the longest,
     * positions at and after each sequence's own length are masked.
     */
    public TextEncoding encodeText(int[][] tokens) {
        int b = tokens.length, s = 0;
        int[] lens = new int[b];
        for (int i = 0; i < b; i++) {
            lens[i] = tokens[i].length;
            for (int id : tokens[i]) {
                if (id < 0 || id >= config.vocabSize()) {
                    throw new IllegalArgumentException("token id " + id + " of sequence " + i + " is outside the vocabulary of " + config.vocabSize());
                }
            }
            s = Math.max(s, lens[i] + 1);
        }
        long[] ids = new long[b * s];
        float[] mask = new float[b * s];
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < s; j++) {
                ids[i * s + j] = j < lens[i] ? tokens[i][j] : config.padId();
                mask[i * s + j] = j < lens[i] ? 0f : 1f;
            }
        }
        final int len = s;
        TextGraph g = textGraphs.computeIfAbsent(List.of((long) b, (long) s),
                k -> new TextGraph(Scope.root(Graphs.create(), weights, LoadOptions.inference()), b, len));
        Map<String, INDArray> r = g.sd.output(Map.of("ids", Nd4j.create(ids, new long[] {b, s}, DataType.INT64),
                "pad_mask", Nd4j.create(mask, new long[] {b, s}, 'c')), g.out.out().name(), g.embed.name());
        return new TextEncoding(r.get(g.out.out().name()), r.get(g.embed.name()).reshape(b, s, config.textEmbedDim()), lens);
    }

    private final class TextGraph {
        final SameDiff sd;
        final TtsZipformer.Outputs out;
        final SDVariable embed;

        TextGraph(Scope root, long b, long s) {
            sd = root.sd();
            SDVariable ids = sd.placeHolder("ids", DataType.INT64, b, s);
            SDVariable mask = sd.placeHolder("pad_mask", root.dtype(), b, s);
            embed = Embedding.load(root.pp("embed"), config.vocabSize(), config.textEmbedDim()).forwardRows(ids);   // [B·S, E]
            out = TtsZipformer.build(root.pp("text_encoder"), TtsZipformer.Shape.textEncoder(config), b, s,
                    new TtsZipformer.Inputs(embed, mask, null, null));
        }
    }

    // -------------------------------------------------------------------------------------------------------- text condition

    /** A text condition {@code [B, T, feat]} and its pad mask {@code [B, T]} (1 = padded), with each item's frame count. */
    public record TextCondition(INDArray condition, INDArray padMask, int[] frames) { }

    /**
     * {@code forward_text_condition}: item {@code b} has {@code N = lengths[b]} tokens and {@code T = frames[b]} frames; with
     * {@code avg = T / N} (integer), frame {@code f < avg·N} reads encoder position {@code f / avg}, every later frame (the
     * remainder and the batch padding) reads position {@code N}, the appended pad.
     */
    public static TextCondition textCondition(INDArray encoded, int[] lengths, int[] frames) {
        int b = lengths.length, tMax = 0;
        for (int f : frames) tMax = Math.max(tMax, f);
        long feat = encoded.size(2);
        INDArray cond = Nd4j.create(DataType.FLOAT, b, tMax, feat);
        INDArray mask = Nd4j.create(DataType.FLOAT, b, tMax);
        for (int i = 0; i < b; i++) {
            int n = lengths[i], avg = frames[i] / n;
            INDArray enc = encoded.get(NDArrayIndex.point(i), NDArrayIndex.all(), NDArrayIndex.all());
            for (int f = 0; f < tMax; f++) {
                int src = avg > 0 && f < avg * n ? f / avg : n;
                cond.get(NDArrayIndex.point(i), NDArrayIndex.point(f), NDArrayIndex.all()).assign(enc.getRow(src));
                if (f >= frames[i]) mask.putScalar(i, f, 1f);
            }
        }
        return new TextCondition(cond, mask, frames.clone());
    }

    /**
     * The frames {@code forward_text_inference_ratio_duration} predicts for a prompt of {@code promptFrames} frames and
     * {@code promptTokens} tokens followed by {@code textTokens}: {@code P + ceil(P / Np · Nt / speed)} in float32, as torch computes it.
     */
    public static int predictedFrames(int promptFrames, int promptTokens, int textTokens, float speed) {
        if (promptTokens <= 0) throw new IllegalArgumentException("the prompt transcript has no tokens");
        float ratio = (float) promptFrames / (float) promptTokens;
        return promptFrames + (int) Math.ceil(ratio * (float) textTokens / speed);
    }

    // ---------------------------------------------------------------------------------------------------------------- sampler

    /** Sampler settings; defaults per model in {@link #defaults(boolean)} (upstream {@code infer_zipvoice.py} L732-741). */
    public record SamplerOptions(int numStep, float guidanceScale, float tShift, float speed) {
        public SamplerOptions {
            if (numStep < 1) throw new IllegalArgumentException("num-step must be ≥ 1, got " + numStep);
            if (!(tShift > 0 && tShift <= 1)) throw new IllegalArgumentException("t-shift must be in (0, 1], got " + tShift);
            if (!(speed > 0)) throw new IllegalArgumentException("speed must be > 0, got " + speed);
            if (!Float.isFinite(guidanceScale) || guidanceScale < 0) {
                throw new IllegalArgumentException("guidance-scale must be ≥ 0, got " + guidanceScale);
            }
        }

        /** ZipVoice: 16 steps, guidance 1.0; ZipVoice-Distill: 8 steps, guidance 3.0; t-shift 0.5, speed 1. */
        public static SamplerOptions defaults(boolean distill) {
            return distill ? new SamplerOptions(8, 3.0f, 0.5f, 1f) : new SamplerOptions(16, 1.0f, 0.5f, 1f);
        }
    }

    /** {@code get_time_steps}: {@code s·u / (1 + (s − 1)·u)} over {@code u = linspace(0, 1, n + 1)}, float32. */
    public static float[] timesteps(int numStep, float tShift) {
        float[] u = bloom4j.tensor.Floats.linspace(0f, 1f, numStep + 1);
        float[] t = new float[u.length];
        for (int i = 0; i < u.length; i++) t[i] = tShift * u[i] / (1f + (tShift - 1f) * u[i]);
        return t;
    }

    /** Called after each Euler step with the step index, the raw model output (the doubled batch under CFG), v and x before the step. */
    public interface StepListener {
        void step(int index, float t, INDArray modelOut, INDArray velocity, INDArray xBefore);
    }

    /** What {@link #sample} produced: the final state {@code [B, T, feat]} with its conditions, and each item's prompt and total frames. */
    public record Sample(INDArray x1, INDArray textCondition, INDArray speechCondition, INDArray padMask, int[] promptFrames,
                         int[] totalFrames) {
        /** Item {@code i}'s generated frames {@code [P, T)} as {@code [T − P, feat]}. */
        public INDArray generated(int i) {
            return x1.get(NDArrayIndex.point(i), NDArrayIndex.interval(promptFrames[i], totalFrames[i]), NDArrayIndex.all()).dup('c');
        }

        /** Item {@code i}'s prompt frames {@code [0, P)}. */
        public INDArray prompt(int i) {
            return x1.get(NDArrayIndex.point(i), NDArrayIndex.interval(0, promptFrames[i]), NDArrayIndex.all()).dup('c');
        }
    }

    /**
     * {@code ZipVoice.sample(duration="predict")}: per item, prompt tokens + text tokens through the text encoder, the predicted
     * length, the speech condition (prompt features {@code [B, P_max, feat]}, already ×{@link #FEAT_SCALE}, zero from each item's
     * {@code promptFrames} on), {@code x0} from {@code noise} as {@code [B, T_max, feat]}, then the Euler steps.
     */
    public Sample sample(int[][] promptTokens, int[][] tokens, INDArray promptFeatures, int[] promptFrames, SamplerOptions o,
                         GaussianNoise noise, StepListener listener) {
        int b = tokens.length;
        if (promptTokens.length != b || promptFrames.length != b || promptFeatures.size(0) != b) {
            throw new IllegalArgumentException("prompt tokens, prompt features and texts must have one entry per batch item (" + b + ")");
        }
        int[][] cat = new int[b][];
        int[] frames = new int[b];
        for (int i = 0; i < b; i++) {
            if (tokens[i].length == 0) throw new IllegalArgumentException("text " + i + " has no tokens");
            if (promptFrames[i] <= 0 || promptFrames[i] > promptFeatures.size(1)) {
                throw new IllegalArgumentException("prompt " + i + " has " + promptFrames[i] + " frames of " + promptFeatures.size(1));
            }
            cat[i] = concat(promptTokens[i], tokens[i]);
            frames[i] = predictedFrames(promptFrames[i], promptTokens[i].length, tokens[i].length, o.speed());
        }
        TextEncoding enc = encodeText(cat);
        TextCondition tc = textCondition(enc.encoded(), enc.lengths(), frames);
        int tMax = (int) tc.condition().size(1), f = config.featDim();
        INDArray speech = Nd4j.create(DataType.FLOAT, b, tMax, f);
        for (int i = 0; i < b; i++) {
            speech.get(NDArrayIndex.point(i), NDArrayIndex.interval(0, promptFrames[i]), NDArrayIndex.all())
                    .assign(promptFeatures.get(NDArrayIndex.point(i), NDArrayIndex.interval(0, promptFrames[i]), NDArrayIndex.all()));
        }
        INDArray x = noise.next(b, tMax, f);
        INDArray x1 = solve(x, tc.condition(), speech, tc.padMask(), o, listener);
        return new Sample(x1, tc.condition(), speech, tc.padMask(), promptFrames.clone(), frames);
    }

    /**
     * The Euler solver ({@code EulerSolver.sample}, {@code solver.py} L262-334) from {@code x0}: ZipVoice runs the doubled batch
     * [uncond; cond] per step (uncond text zero; uncond speech zero for t &gt; 0.5, else the real one with the scale doubled) and
     * combines {@code (1 + g)·v_c − g·v_u}; guidance 0 runs the batch once; ZipVoice-Distill feeds g to the network, one pass.
     */
    public INDArray solve(INDArray x0, INDArray text, INDArray speech, INDArray padMask, SamplerOptions o, StepListener listener) {
        float[] ts = timesteps(o.numStep(), o.tShift());
        long b = x0.size(0);
        INDArray x = x0.castTo(DataType.FLOAT).dup('c');
        for (int i = 0; i < o.numStep(); i++) {
            float t = ts[i];
            INDArray raw, v;
            if (config.distill()) {
                raw = velocity(x, text, speech, Nd4j.valueArrayOf(new long[] {b}, t), padMask,
                        Nd4j.valueArrayOf(new long[] {b}, o.guidanceScale()));
                v = raw;
            } else if (o.guidanceScale() == 0f) {
                raw = velocity(x, text, speech, Nd4j.valueArrayOf(new long[] {b}, t), padMask, null);
                v = raw;
            } else {
                float g = o.guidanceScale();
                INDArray uncondSpeech;
                if (t > 0.5f) {
                    uncondSpeech = Nd4j.zerosLike(speech);
                } else {
                    g = g * 2f;
                    uncondSpeech = speech;
                }
                raw = velocity(Nd4j.concat(0, x, x), Nd4j.concat(0, Nd4j.zerosLike(text), text), Nd4j.concat(0, uncondSpeech, speech),
                        Nd4j.valueArrayOf(new long[] {2 * b}, t), Nd4j.concat(0, padMask, padMask), null);
                INDArray uncond = raw.get(NDArrayIndex.interval(0, b), NDArrayIndex.all(), NDArrayIndex.all());
                INDArray cond = raw.get(NDArrayIndex.interval(b, 2 * b), NDArrayIndex.all(), NDArrayIndex.all());
                v = cond.mul(1f + g).subi(uncond.mul(g));
            }
            INDArray before = listener == null ? null : x.dup();
            x.addi(v.mul(ts[i + 1] - ts[i]));
            if (listener != null) listener.step(i, t, raw, v, before);
        }
        return x;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static <K, V> Map<K, V> lru() {
        return new LinkedHashMap<>(4, 0.75f, true) {
            @Override protected boolean removeEldestEntry(Map.Entry<K, V> e) { return size() > 2; }
        };
    }
}
