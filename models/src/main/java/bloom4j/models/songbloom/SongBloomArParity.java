package bloom4j.models.songbloom;

import bloom4j.nn.KvCache;
import bloom4j.tensor.io.Checkpoints;
import bloom4j.tensor.io.TensorSource;
import bloom4j.tensor.parity.Fixture;
import bloom4j.tensor.parity.ParityKind;
import bloom4j.tensor.parity.ParityReport;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Parity kind {@code songbloom-ar}: the AR half of {@code MVSA_DiTAR} against the upstream run recorded in the fixture (tiny config,
 * random weights, FP32). From the fixture's sketch tokens and latents it rebuilds the AR sequence {@code [BOS, e(s0..s3), A0,
 * e(s4..s7), A1]}, prefixes the recorded condition tensors, and compares: the sketch embeddings, {@code block_conv}, the sequence and
 * the fused input, layer 0's output and the last hidden state of a full forward, {@code lm_forward}'s output and logits, and a
 * streaming run through the KV cache (prefill of all but the last three positions, then three single-token steps) with its logits,
 * the steps once through the graph and once through the eager decode kernel and classifier that generation uses.
 * The config comes from the fixture's {@code config} checked against the weights, as a model folder's would.
 */
public final class SongBloomArParity implements ParityKind {

    @Override public String kind() { return "songbloom-ar"; }

    @Override public String description() {
        return "SongBloom AR sketch LM: embeddings, block_conv, LLaMA hidden states, classifier logits, KV-cache streaming";
    }

    @Override public void run(Fixture f, ParityReport report) throws Exception {
        SongBloomAr m;
        try (TensorSource w = Checkpoints.open(f.checkpoint())) {
            m = SongBloomAr.load(SongBloomConfig.resolve(f.config(), w), w);
        }
        SongBloomConfig c = m.config();
        int d = c.dim();
        INDArray tokens = f.tensor("sketch_tokens");                          // [B, T]
        long b = tokens.size(0), t = tokens.size(1);
        int blocks = Math.toIntExact(t / c.blockSize());

        INDArray emb = m.sketchEmbeddings(tokens.reshape(-1).toLongVector()).reshape(b, t, d);
        report.compare("skeleton_emb_out", emb, f.tensor("skeleton_emb_out"));

        INDArray latent = f.tensor("latent").castTo(DataType.FLOAT);           // [B, latent, T] channel-first
        INDArray frames = latent.permute(0, 2, 1).dup('c').reshape(b * blocks, c.blockSize(), c.latentDim());
        INDArray conv = m.blockConv(frames).reshape(b, blocks, d);
        report.compare("block_conv_out", conv, f.tensor("block_conv_out"));

        List<INDArray> parts = new ArrayList<>();                             // [BOS, e(block 0), A0, e(block 1), A1]
        parts.add(Nd4j.concat(0, m.bos().reshape(1, 1, d), m.bos().reshape(1, 1, d)));
        for (int n = 0; n < blocks; n++) {
            parts.add(emb.get(NDArrayIndex.all(), NDArrayIndex.interval((long) n * c.blockSize(), (long) (n + 1) * c.blockSize()),
                    NDArrayIndex.all()));
            parts.add(conv.get(NDArrayIndex.all(), NDArrayIndex.interval(n, n + 1), NDArrayIndex.all()));
        }
        INDArray seq = Nd4j.concat(1, parts.toArray(new INDArray[0]));
        report.compare("seq_embeds", seq, f.tensor("seq_embeds"));
        INDArray inputs = Nd4j.concat(1, SongBloomAr.prefix(f.tensor("prefix_prompt"), f.tensor("prefix_lyrics")), seq);
        report.compare("inputs_embeds", inputs, f.tensor("inputs_embeds"));

        // Full forward (lm_forward without streaming): every position, prefix included.
        int n = Math.toIntExact(inputs.size(1)), s = Math.toIntExact(seq.size(1));
        String hidden = m.lm().hidden().name(), layer0 = m.lm().layerOutput(0).name(), logits = m.logits().name();
        Map<String, INDArray> full = m.run(inputs, m.newCache(n), hidden, layer0, logits);
        report.compare("hidden_after_layer0", full.get(layer0).reshape(b, n, d), f.tensor("hidden_after_layer0"));
        INDArray last = full.get(hidden).reshape(b, n, d);
        report.compare("last_hidden_state", last, f.tensor("last_hidden_state"));
        report.compare("lm_out", tail(last, s), f.tensor("lm_out"));
        report.compare("logits", tail(full.get(logits).reshape(b, n, c.sketchVocabulary().classes()), s), f.tensor("logits"));

        // Streaming: the prefix goes with the first call only; then one position per call through the cache.
        int steps = Math.toIntExact(f.tensor("stream_step_out").size(1));
        KvCache cache = m.newCache(8);
        INDArray first = Nd4j.concat(1, SongBloomAr.prefix(f.tensor("prefix_prompt"), f.tensor("prefix_lyrics")),
                seq.get(NDArrayIndex.all(), NDArrayIndex.interval(0, s - steps), NDArrayIndex.all()));
        INDArray prefill = m.run(first, cache, hidden).get(hidden).reshape(b, first.size(1), d);
        report.compare("stream_prefill_out", tail(prefill, s - steps), f.tensor("stream_prefill_out"));
        List<INDArray> stepOut = new ArrayList<>();
        List<INDArray> stepLogits = new ArrayList<>();
        for (int i = s - steps; i < s; i++) {
            INDArray x = seq.get(NDArrayIndex.all(), NDArrayIndex.interval(i, i + 1), NDArrayIndex.all()).dup();
            Map<String, INDArray> o = m.run(x, cache, hidden, logits);
            stepOut.add(o.get(hidden).reshape(b, 1, d));
            stepLogits.add(o.get(logits).reshape(b, 1, c.sketchVocabulary().classes()));
        }
        report.compare("stream_step_out", Nd4j.concat(1, stepOut.toArray(new INDArray[0])), f.tensor("stream_step_out"));
        report.compare("stream_step_logits", Nd4j.concat(1, stepLogits.toArray(new INDArray[0])), f.tensor("stream_step_logits"));
        report.check("kv cache holds prefix + sequence (" + cache.length() + " positions)", cache.length() == n, "");

        // The same steps through what generation runs: the eager decode kernel and the eager classifier.
        KvCache fast = m.newCache(8);
        m.run(first, fast, hidden);
        stepOut.clear();
        stepLogits.clear();
        for (int i = s - steps; i < s; i++) {
            INDArray h = m.decode(seq.get(NDArrayIndex.all(), NDArrayIndex.point(i), NDArrayIndex.all()).dup(), fast);   // [B, D]
            stepOut.add(h.reshape(b, 1, d));
            stepLogits.add(m.classify(h).reshape(b, 1, c.sketchVocabulary().classes()));
        }
        report.compare("stream_step_out (decode kernel)", Nd4j.concat(1, stepOut.toArray(new INDArray[0])), f.tensor("stream_step_out"));
        report.compare("stream_step_logits (decode kernel)", Nd4j.concat(1, stepLogits.toArray(new INDArray[0])),
                f.tensor("stream_step_logits"));

        // The guard: the "special" id is a row of skeleton_emb but not a token.
        long special = c.sketchVocabulary().special();
        boolean refused;
        try {
            m.sketchEmbeddings(special);
            refused = false;
        } catch (SketchTokenException e) {
            refused = true;
        }
        report.check("sketch token " + special + " (special, outside the " + c.numPitch() + " codes + EOS) refused", refused, "");
    }

    /** The last {@code n} positions of {@code [B, T, F]}. */
    private static INDArray tail(INDArray x, long n) {
        long t = x.size(1);
        return x.get(NDArrayIndex.all(), NDArrayIndex.interval(t - n, t), NDArrayIndex.all());
    }
}
