package bloom4j.train.songbloom;

import bloom4j.models.songbloom.LyricVocabulary;
import bloom4j.models.songbloom.SongBloomAr;
import bloom4j.models.songbloom.SongBloomConfig;
import bloom4j.models.songbloom.dit.DitConfig;
import bloom4j.nn.LoadOptions;
import bloom4j.nn.ParamSource;
import bloom4j.tensor.io.Checkpoints;
import bloom4j.tensor.io.TensorSource;
import bloom4j.tensor.parity.Fixture;
import bloom4j.tensor.parity.ParityKind;
import bloom4j.tensor.parity.ParityReport;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;
import java.util.Map;

/**
 * Parity kind {@code songbloom-train-forward}: upstream {@code MVSA_DiTAR.forward} (the training forward) on a tiny random model
 * with every random draw recorded, once in eval mode (no h/s dropout) and once in train mode, through {@link SongBloomObjective}
 * with the recorded condition tensors as the prefix: {@code ar_logit}, {@code ar_target}, the DiT's inputs (t, x_t, the selected and
 * dropped h and s, the history block), its prediction and target, and both loss terms.
 */
public final class SongBloomTrainForwardParity implements ParityKind {

    @Override public String kind() { return "songbloom-train-forward"; }

    @Override public String description() {
        return "SongBloom training forward (AR logits/targets, DiT flow inputs and prediction, CE and flow MSE), eval and train mode";
    }

    @Override public void run(Fixture f, ParityReport report) throws Exception {
        try (TensorSource w = Checkpoints.open(f.checkpoint())) {
            SongBloomConfig c = SongBloomConfig.resolve(f.config(), w);
            DitConfig dc = DitConfig.fromCheckpoint(w, c.numHeads());
            INDArray sketch = f.tensor("x_sketch");
            int b = Math.toIntExact(sketch.size(0)), t = Math.toIntExact(sketch.size(1));
            SongBloomObjective obj = SongBloomObjective.build(c, dc, ParamSource.of(w), LoadOptions.inference(), b, t,
                    SongBloomObjective.Conditions.GIVEN, LyricVocabulary.released(), SongBloomObjective.Layout.PER_LAYER);
            SongBloomObjective.Batch batch = batch(f, c);
            double hDropout = f.config().path("MVSA_DiTAR").path("h_dropout").asDouble(Double.NaN);
            compare(f, report, obj, batch, "", new SongBloomObjective.Draws(null, null, floats(f, "rng_0_randn"),
                    floats(f, "rng_1_randn_like")), hDropout);
            compare(f, report, obj, batch, "train_", new SongBloomObjective.Draws(floats(f, "train_rng_0_rand"),
                    floats(f, "train_rng_1_rand"), floats(f, "train_rng_2_randn"), floats(f, "train_rng_3_randn_like")), hDropout);
        }
    }

    /** The fixture's batch: sketch, channel-first latents turned to frames × channels, the recorded condition prefix. */
    static SongBloomObjective.Batch batch(Fixture f, SongBloomConfig c) throws java.io.IOException {
        INDArray sketch = f.tensor("x_sketch");
        long[][] s = sketch.toLongMatrix();
        long[] len = f.tensor("x_len").toLongVector();
        INDArray latents = f.tensor("x_latent").castTo(DataType.FLOAT).permute(0, 2, 1).dup('c');
        INDArray prefix = SongBloomAr.prefix(tensor(f, "prefix_prompt", "cond_prompt_wav"), tensor(f, "prefix_lyrics", "cond_lyrics"));
        boolean[] ends = new boolean[s.length];
        Arrays.fill(ends, true);
        return new SongBloomObjective.Batch(null, null, prefix, s, len, ends, latents);
    }

    private static INDArray tensor(Fixture f, String name, String alternative) throws java.io.IOException {
        return f.inputNames().contains(name) ? f.tensor(name) : f.tensor(alternative);
    }

    static float[] floats(Fixture f, String name) throws java.io.IOException {
        return f.tensor(name).castTo(DataType.FLOAT).dup('c').reshape(-1).toFloatVector();
    }

    private static void compare(Fixture f, ParityReport report, SongBloomObjective obj, SongBloomObjective.Batch batch, String prefix,
                                SongBloomObjective.Draws draws, double hDropout) throws java.io.IOException {
        Map<String, INDArray> feed = obj.feed(batch, draws, hDropout);
        String logits = obj.logits().name();
        Map<String, INDArray> out = obj.output(feed, logits, obj.prediction().name(), obj.ditH().name(), obj.ditS().name(),
                obj.arLoss().name(), obj.flowLoss().name());
        SongBloomConfig c = obj.config();
        int b = batch.size(), t1 = obj.sketchLength() + 1;
        report.compare(prefix + "ar_logit", out.get(logits).reshape(b, t1, c.sketchVocabulary().classes()), f.tensor(prefix + "ar_logit"));
        long[] y = obj.targets(batch);
        report.check(prefix + "ar_target", Arrays.equals(y, f.tensor(prefix + "ar_target").reshape(-1).toLongVector()),
                Arrays.toString(y));
        SongBloomObjective.FlowInputs in = obj.flowInputs(batch, draws);
        long nv = in.t().length, s = c.blockSize(), lat = c.latentDim();
        report.compare(prefix + "nar_t", Nd4j.create(in.t()), f.tensor(prefix + "nar_t"));
        report.compare(prefix + "nar_in_x", Nd4j.create(in.xT(), new long[] {nv, s, lat}, 'c'), f.tensor(prefix + "nar_in_x"));
        report.compare(prefix + "nar_target", Nd4j.create(in.target(), new long[] {nv, s, lat}, 'c'), f.tensor(prefix + "nar_target"));
        if (f.outputNames().contains(prefix + "nar_in_history")) {
            report.compare(prefix + "nar_in_history", Nd4j.create(in.history(), new long[] {nv, s, lat}, 'c'),
                    f.tensor(prefix + "nar_in_history"));
        }
        report.compare(prefix + "nar_in_h", out.get(obj.ditH().name()), f.tensor(prefix + "nar_in_h"));
        if (f.outputNames().contains(prefix + "nar_in_s")) report.compare(prefix + "nar_in_s", out.get(obj.ditS().name()), f.tensor(prefix + "nar_in_s"));
        report.compare(prefix + "nar_pred", out.get(obj.prediction().name()), f.tensor(prefix + "nar_pred"));
        report.compare(prefix + "loss_ce", out.get(obj.arLoss().name()), f.tensor(prefix + "loss_ce"));
        report.compare(prefix + "loss_mse", out.get(obj.flowLoss().name()), f.tensor(prefix + "loss_mse"));
    }
}
