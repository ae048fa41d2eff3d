package bloom4j.models.songbloom.dit;

import bloom4j.tensor.io.Checkpoints;
import bloom4j.tensor.io.TensorSource;
import bloom4j.tensor.parity.Fixture;
import bloom4j.tensor.parity.ParityKind;
import bloom4j.tensor.parity.ParityReport;
import com.fasterxml.jackson.databind.JsonNode;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;

/**
 * Parity kind {@code songbloom-dit}: {@code MVSA_DiTAR.diffusion_forward} without and with CFG (output, timestep embedding, DiT
 * input and output sequences) and {@code sample_discrete_euler_with_temperature} at temperature 0.95 and 1.0 (per-step x, t and
 * v, and the result), on the fixture's tiny random SongBloom.
 */
public final class SongBloomDitParity implements ParityKind {

    @Override public String kind() { return "songbloom-dit"; }

    @Override public String description() {
        return "SongBloom local DiT diffusion_forward (with/without CFG) and the rectified-flow Euler sampler with diff_temp";
    }

    /**
     * The DiT of a fixture's checkpoint: config from fixture.json's MVSA_DiTAR block, checked against the tensor shapes, loaded the
     * way generation loads it (every DiT tensor must be used).
     */
    static LocalDit load(Fixture f, TensorSource src) throws Exception {
        JsonNode m = f.config().path("MVSA_DiTAR");
        DitConfig c = DitConfig.fromCheckpoint(src, m.path("num_heads").asInt());
        DitConfig declared = new DitConfig(m.path("dim").asInt(), m.path("num_heads").asInt(), m.path("diff_layers").asInt(),
                m.path("latent_dim").asInt(), m.path("block_size").asInt(), m.path("hidden_scale").asInt(4),
                m.path("timestep_features_dim").asInt(), DitConfig.ROTARY_BASE, DitConfig.LAYER_NORM_EPS);
        if (!c.equals(declared)) throw new IllegalStateException("checkpoint sizes " + c + " differ from fixture.json " + declared);
        return LocalDit.load(src, c);
    }

    @Override public void run(Fixture f, ParityReport report) throws Exception {
        try (TensorSource src = Checkpoints.open(f.checkpoint())) {
            LocalDit dit = load(f, src);

            INDArray x = f.tensor("x"), t = f.tensor("t"), h = f.tensor("h"), s = f.tensor("s"), hist = f.tensor("history_x");
            LocalDit.Trace tr = dit.trace(x, t, h, s, hist, null, true);
            report.compare("out_nocfg", tr.out(), f.tensor("out_nocfg"));
            report.compare("timestep_embed_nocfg", tr.timestepEmbed(), f.tensor("timestep_embed_nocfg"));
            report.compare("dit_seq_in_nocfg", tr.seqIn(), f.tensor("dit_seq_in_nocfg"));
            report.compare("dit_seq_out_nocfg", tr.seqOut(), f.tensor("dit_seq_out_nocfg"));
            double cfg = f.config().path("dit_sampler_params").path("cfg_coef").asDouble(1.5);
            report.compare("out_cfg", dit.forward(x, t, h, s, hist, cfg), f.tensor("out_cfg"));

            JsonNode sp = f.config().path("dit_sampler_params");
            int steps = sp.path("steps").asInt();
            for (String prefix : new String[] {"sample", "sample_temp1"}) {
                double temp = prefix.equals("sample") ? sp.path("temperature").asDouble() : 1.0;
                FlowSampler sampler = new FlowSampler(steps, temp, sp.path("sigma_max").asDouble(1.0));
                INDArray sh = f.tensor("sample_h"), ss = f.tensor("sample_s"), shist = f.tensor("sample_history_x");
                List<INDArray> xs = new ArrayList<>(), vs = new ArrayList<>();
                float[] ts = new float[steps];
                INDArray z = sampler.sample((xx, tc) -> dit.forward(xx, Nd4j.valueArrayOf(new long[] {xx.size(0)}, tc), sh, ss, shist, cfg),
                        f.tensor("sample_noise"), (k, xx, tc, v) -> {
                            xs.add(xx);
                            vs.add(v);
                            ts[k] = tc;
                        });
                report.compare(prefix + "_x_per_step", Nd4j.stack(0, xs.toArray(new INDArray[0])), f.tensor(prefix + "_x_per_step"));
                report.compare(prefix + "_t_per_step", Nd4j.create(ts, new long[] {steps, 1}, 'c'), f.tensor(prefix + "_t_per_step"));
                report.compare(prefix + "_v_per_step", Nd4j.stack(0, vs.toArray(new INDArray[0])), f.tensor(prefix + "_v_per_step"));
                report.compare(prefix + "_out", z, f.tensor(prefix + "_out"));
            }
        }
    }
}
