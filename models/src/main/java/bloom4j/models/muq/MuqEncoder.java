package bloom4j.models.muq;

import bloom4j.nn.AttentionContext;
import bloom4j.nn.Graphs;
import bloom4j.nn.LayerNorm;
import bloom4j.nn.LoadOptions;
import bloom4j.nn.ParamSource;
import bloom4j.nn.Params;
import bloom4j.nn.RotaryEmbedding;
import bloom4j.nn.Scope;
import bloom4j.nn.SeqShape;
import bloom4j.tensor.io.TensorSource;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * MuQ's encoder (tencent-ailab/MuQ@d4a6658 {@code muq_model.py} L205-225 with {@code is_flash=False}): the {@link ConvStem} then HF's
 * {@code Wav2Vec2ConformerEncoder} (transformers v4.40.2), eval mode, batch 1:
 * <pre>
 *   h0 = stem(mel)                         hidden_states[0]
 *   h_i = layer_{i-1}(h_{i-1}, rope)       hidden_states[i], i = 1 .. depth−1
 *   h_depth = layer_norm(layer(h_{depth-1}))  hidden_states[depth] = last_hidden_state
 * </pre>
 * The conformer's {@code pos_conv_embed} is built by HF but never called with rotary positions (see {@link MuqWeights}).
 *
 * <p>Two SameDiff graphs with a dynamic time axis: the stem, run over mel chunks with a halo so that its im2col buffers stay small
 * (exact, see {@link ConvStem#HALO}), and the conformer, run on a whole token sequence, which computes only the layers up to the
 * hidden state asked for.
 */
public final class MuqEncoder {
    private final MuqConfig cfg;
    private final SameDiff stemSd = Graphs.create();
    private final SameDiff confSd = Graphs.create();
    private final String[] stemOut;                     // block0, block1, rows
    private final RotaryEmbedding rope;
    private final RotaryEmbedding.Tables tables;
    private final String[] hidden;                      // hidden_state 0 .. depth
    private final Map<String, String> taps = new LinkedHashMap<>();
    private final List<String> unused;

    private MuqEncoder(TensorSource src, String prefix, MuqConfig cfg) {
        this.cfg = cfg;
        int d = cfg.encoderDim();
        Params stemParams = new Params(stemSd, ParamSource.of(src), LoadOptions.inference());
        Scope root = stemParams.root();
        SDVariable mel = stemSd.placeHolder("mel", DataType.FLOAT, 1, 1, cfg.nMels(), -1);
        SDVariable[] s = ConvStem.load(root.pp(prefix + "conv"), cfg).forward(mel);
        stemOut = new String[] {s[0].name(), s[1].name(), s[2].name()};

        Params confParams = new Params(confSd, ParamSource.of(src), LoadOptions.inference());
        Scope enc = confParams.root().pp(prefix + "conformer");
        SDVariable x = confSd.placeHolder("hidden_state_0", DataType.FLOAT, 1, -1, d);
        rope = RotaryEmbedding.full(cfg.headDim(), cfg.rotaryBase());
        checkInvFreq(enc.pp("embed_positions"));
        tables = rope.placeholders(confSd, "rope", DataType.FLOAT);
        AttentionContext ctx = AttentionContext.of(SeqShape.of(x), tables, null);
        SDVariable h = x.reshape(-1, d);
        hidden = new String[cfg.hiddenStates()];
        hidden[0] = h.name();
        for (int i = 0; i < cfg.encoderDepth(); i++) {
            ConformerLayer.Taps t = ConformerLayer.load(enc.pp("layers").pp(i), cfg).forward(h, ctx);
            taps.put("layer" + i + "_ffn1", t.ffn1().name());
            taps.put("layer" + i + "_self_attn", t.selfAttn().name());
            taps.put("layer" + i + "_conv_module", t.convModule().name());
            taps.put("layer" + i + "_ffn2", t.ffn2().name());
            h = t.out();
            if (i < cfg.encoderDepth() - 1) hidden[i + 1] = h.name();
        }
        h = LayerNorm.load(enc.pp("layer_norm"), d, cfg.layerNormEps()).forwardRows(h);
        hidden[cfg.encoderDepth()] = h.name();

        Set<String> consumed = new LinkedHashSet<>(stemParams.consumed());
        consumed.addAll(confParams.consumed());
        List<String> left = new ArrayList<>();
        for (String k : src.names()) if (!consumed.contains(k)) left.add(k);
        List<String> unexpected = left.stream().filter(k -> !MuqWeights.isUnused(k, prefix)).toList();
        java.util.Map<String, long[]> missing = new java.util.LinkedHashMap<>(stemParams.missing());
        missing.putAll(confParams.missing());
        Params.requireComplete("MuQ in " + src.description(), missing, unexpected, confParams.source()::shape,
                "is it a MuQ checkpoint with keys under '" + prefix + "', and its config the one it was trained with?");
        unused = List.copyOf(left);
    }

    /** Loads from {@code src}, keys under {@code prefix} ("model." for the released checkpoint). */
    public static MuqEncoder load(TensorSource src, String prefix, MuqConfig cfg) { return new MuqEncoder(src, prefix, cfg); }

    /**
     * The persistent buffer {@code embed_positions.inv_freq} is recomputable; when present it must equal what bloom4j computes
     * (fp32, as torch does), or the checkpoint was made with another head width or base.
     */
    private void checkInvFreq(Scope s) {
        if (!s.has("inv_freq")) return;
        float[] want = rope.invFreq();
        float[] got = s.array("inv_freq", want.length).castTo(DataType.FLOAT).dup('c').data().asFloat();
        for (int i = 0; i < want.length; i++) {
            if (Math.abs(got[i] - want[i]) > 2 * Math.ulp(want[i])) {
                throw new IllegalArgumentException("'" + s.key("inv_freq") + "' [" + i + "] = " + got[i] + " but heads of width "
                        + cfg.headDim() + " with base " + cfg.rotaryBase() + " give " + want[i] + ": the config does not match the weights");
            }
        }
    }

    public MuqConfig config() { return cfg; }

    /** Checkpoint keys that inference does not read (dead modules, see {@link MuqWeights}), in checkpoint order. */
    public List<String> unusedKeys() { return unused; }

    /** The stem on a whole mel {@code [1, 1, n_mels, T]}: {@code stem_block0}, {@code stem_block1}, {@code hidden_state_0} rows. */
    public Map<String, INDArray> stemOutputs(INDArray mel) {
        Map<String, INDArray> out = stemSd.output(Map.of("mel", mel), stemOut);
        Map<String, INDArray> m = new LinkedHashMap<>();
        m.put("stem_block0", out.get(stemOut[0]));
        m.put("stem_block1", out.get(stemOut[1]));
        m.put("hidden_state_0", out.get(stemOut[2]));
        return m;
    }

    /**
     * The stem's rows {@code [T', d]} for a mel {@code [n_mels, T]} (channel-major), computed in chunks of {@code chunkFrames} mel frames
     * (a multiple of 4) each with {@link ConvStem#HALO} frames of context: equal to running it on the whole mel.
     */
    public float[] stem(float[] mel, int frames, int chunkFrames) {
        if (chunkFrames < 4 || chunkFrames % 4 != 0) throw new IllegalArgumentException("stem chunk must be a positive multiple of 4, got " + chunkFrames);
        int m = cfg.nMels(), d = cfg.encoderDim();
        int tokens = Math.toIntExact(MuqConfig.tokensOfMel(frames));
        float[] out = new float[tokens * d];
        for (int a = 0; a < frames; a += chunkFrames) {
            int b = Math.min(frames, a + chunkFrames);
            int lo = Math.max(0, a - ConvStem.HALO), hi = Math.min(frames, b + ConvStem.HALO);
            float[] sub = new float[m * (hi - lo)];
            for (int r = 0; r < m; r++) System.arraycopy(mel, r * frames + lo, sub, r * (hi - lo), hi - lo);
            INDArray in = Nd4j.create(sub, new long[] {1, 1, m, hi - lo}, 'c');
            float[] rows = stemSd.output(Map.of("mel", in), stemOut[2]).get(stemOut[2]).dup('c').data().asFloat();
            int g0 = a / 4, g1 = b == frames ? tokens : b / 4;
            System.arraycopy(rows, (g0 - lo / 4) * d, out, g0 * d, (g1 - g0) * d);
        }
        return out;
    }

    /** Hidden state {@code layer} (0 .. depth) of the rows {@code h0 [T', d]} from the stem: {@code [T', d]}. */
    public float[] hiddenState(float[] h0, int tokens, int layer) {
        requireLayer(layer);
        if (layer == 0) return h0.clone();
        String name = hidden[layer];
        return confSd.output(conformerFeed(Nd4j.create(h0, new long[] {1, tokens, cfg.encoderDim()}, 'c')), name).get(name)
                .dup('c').data().asFloat();
    }

    /**
     * Named conformer outputs for {@code h0 [1, T', d]}: {@code hidden_state_i}, {@code layer{i}_ffn1}, {@code layer{i}_self_attn},
     * {@code layer{i}_conv_module}, {@code layer{i}_ffn2} (each rows {@code [T', d]}), and {@code rotary_cos_sin}
     * {@code [2, T', 1, 1, head_dim]} as HF's rotary module returns it.
     */
    public Map<String, INDArray> conformerOutputs(INDArray h0, List<String> names) {
        Map<String, String> graphNames = new LinkedHashMap<>();
        for (String n : names) {
            if (n.equals("rotary_cos_sin")) continue;
            String g = n.startsWith("hidden_state_") ? hidden[requireLayer(Integer.parseInt(n.substring(13)))] : taps.get(n);
            if (g == null) throw new IllegalArgumentException("no conformer output '" + n + "'; known: hidden_state_0.." + cfg.encoderDepth()
                    + ", " + taps.keySet());
            graphNames.put(n, g);
        }
        Map<String, INDArray> feed = conformerFeed(h0);
        Map<String, INDArray> out = graphNames.isEmpty() ? Map.of()
                : confSd.output(feed, graphNames.values().toArray(new String[0]));
        Map<String, INDArray> m = new LinkedHashMap<>();
        for (String n : names) {
            if (n.equals("rotary_cos_sin")) {
                int t = (int) h0.size(1), dh = cfg.headDim();
                INDArray cos = feed.get(tables.cos().name()).reshape(1, t, 1, 1, dh);
                INDArray sin = feed.get(tables.sin().name()).reshape(1, t, 1, 1, dh);
                m.put(n, Nd4j.concat(0, cos, sin));
            } else {
                m.put(n, out.get(graphNames.get(n)));
            }
        }
        return m;
    }

    private Map<String, INDArray> conformerFeed(INDArray h0) {
        Map<String, INDArray> feed = new HashMap<>(rope.feed(tables, 0, (int) h0.size(1)));
        feed.put("hidden_state_0", h0);
        return feed;
    }

    private int requireLayer(int layer) {
        if (layer < 0 || layer > cfg.encoderDepth()) {
            throw new IllegalArgumentException("MuQ hidden state " + layer + " does not exist: choose 0 (conv stem) .. " + cfg.encoderDepth()
                    + " (last_hidden_state)");
        }
        return layer;
    }

    @Override public String toString() {
        return "MuqEncoder(" + cfg + ", unused " + unused.size() + " keys " + Arrays.toString(unused.stream().limit(3).toArray()) + ")";
    }
}
