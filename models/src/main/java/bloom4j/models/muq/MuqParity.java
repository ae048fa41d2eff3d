package bloom4j.models.muq;

import bloom4j.tensor.io.Checkpoints;
import bloom4j.tensor.io.TensorSource;
import bloom4j.tensor.parity.Fixture;
import bloom4j.tensor.parity.ParityKind;
import bloom4j.tensor.parity.ParityReport;
import bloom4j.tensor.parity.Tolerance;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** The MuQ parity kinds: {@link Frontend} ({@code muq-frontend}) and {@link Encoder} ({@code muq-encoder}). */
public final class MuqParity {
    private MuqParity() {}

    /** The fixture's {@code tolerance_per_output} entry for {@code name}, else the fixture-wide tolerance. */
    static Tolerance tolerance(Fixture f, String name) {
        JsonNode t = f.json().path("tolerance_per_output").path(name);
        return t.isObject() ? new Tolerance(t.path("atol").asDouble(0), t.path("rtol").asDouble(0)) : f.tolerance();
    }

    static void compare(Fixture f, ParityReport r, String name, INDArray actual) throws IOException {
        INDArray want = f.tensor(name);
        r.compare(name, actual.reshape(want.shape()), want, tolerance(f, name));
    }

    static float[] waveform(Fixture f) throws IOException {
        INDArray w = f.tensor("waveform");
        if (w.size(0) != 1) throw new IllegalArgumentException("expected one waveform, got " + w.shapeInfoToString());
        return w.castTo(DataType.FLOAT).dup('c').data().asFloat();
    }

    /** Parity kind {@code muq-frontend}: window, filterbank, power spectrogram, mel power, dB, trimmed and normalised features. */
    public static final class Frontend implements ParityKind {
        @Override public String kind() { return "muq-frontend"; }

        @Override public String description() {
            return "MuQ mel front end (torchaudio MelSpectrogram 24 kHz / 2048 / 240 / 128 HTK + AmplitudeToDB, normalised)";
        }

        @Override public void run(Fixture f, ParityReport r) throws Exception {
            MuqConfig cfg = MuqConfig.large();
            MelFrontEnd fe = new MelFrontEnd(cfg);
            float[] x = waveform(f);
            int bins = cfg.freqBins(), mels = cfg.nMels();
            int frames = Math.toIntExact(fe.stftFrames(x.length));
            compare(f, r, "window", Nd4j.create(fe.window()));
            compare(f, r, "mel_fb", Nd4j.create(fe.filterbank(), new long[] {bins, mels}, 'c'));
            float[] power = fe.powerFrames(x, 0, frames);                                   // [F, bins]
            compare(f, r, "power_spec", Nd4j.create(bloom4j.tensor.dsp.MelSpectrogram.transpose(power, frames, bins), new long[] {1, bins, frames}, 'c'));
            float[] mel = fe.melPower(power, frames);                                        // [F, mels]
            compare(f, r, "mel_power", Nd4j.create(bloom4j.tensor.dsp.MelSpectrogram.transpose(mel, frames, mels), new long[] {1, mels, frames}, 'c'));
            MelFrontEnd.toDb(mel);
            float[] db = bloom4j.tensor.dsp.MelSpectrogram.transpose(mel, frames, mels);                           // [mels, F]
            compare(f, r, "mel_db", Nd4j.create(db, new long[] {1, mels, frames}, 'c'));
            INDArray trimmed = Nd4j.create(db, new long[] {mels, frames}, 'c')
                    .get(org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.interval(0, frames - 1));
            compare(f, r, "mel_db_trimmed", trimmed.dup('c').reshape(1, mels, frames - 1));
            compare(f, r, "features", Nd4j.create(fe.features(x), new long[] {1, mels, frames - 1}, 'c'));
        }
    }

    /**
     * Parity kind {@code muq-encoder}: the whole model (features, stem blocks, rotary tables, every hidden state and each layer's four
     * residual branches) from the fixture's checkpoint and config.json, then {@link MuqModel#encode} end to end from both the
     * {@code .pt} and the {@code .safetensors} copy, with the dead keys skipped.
     */
    public static final class Encoder implements ParityKind {
        @Override public String kind() { return "muq-encoder"; }

        @Override public String description() {
            return "MuQ encoder (conv stem with eval BatchNorm, wav2vec2-conformer with rotary on the input): all hidden states";
        }

        @Override public void run(Fixture f, ParityReport r) throws Exception {
            MuqConfig cfg = MuqConfig.fromJson(new ObjectMapper().readTree(f.file("config.json").toFile()));
            float[] x = waveform(f);
            MuqModel model;
            try (TensorSource src = Checkpoints.open(f.checkpoint())) {
                model = MuqModel.load(src, cfg, MuqModel.Options.defaults());
            }
            int mels = cfg.nMels(), tMel = Math.toIntExact(cfg.melFrames(x.length)), tok = Math.toIntExact(cfg.tokens(x.length));
            int d = cfg.encoderDim();
            float[] feat = model.frontEnd().features(x);
            compare(f, r, "features", Nd4j.create(feat, new long[] {1, mels, tMel}, 'c'));

            var stem = model.encoder().stemOutputs(Nd4j.create(feat, new long[] {1, 1, mels, tMel}, 'c'));
            compare(f, r, "stem_block0", stem.get("stem_block0"));
            compare(f, r, "stem_block1", stem.get("stem_block1"));
            INDArray h0 = stem.get("hidden_state_0").reshape(1, tok, d);
            List<String> names = new ArrayList<>();
            for (String n : f.outputNames()) {
                if (n.startsWith("hidden_state_") || n.startsWith("layer") || n.equals("rotary_cos_sin")) {
                    if (!n.endsWith("_attn_probs")) names.add(n);
                }
            }
            var outs = model.encoder().conformerOutputs(h0, names);
            for (String n : names) compare(f, r, n, outs.get(n));

            // The public path, end to end: waveform -> windows -> stem chunks -> last hidden state (here one window, three stem
            // chunks of 64 mel frames, which must equal the single pass).
            MuqModel chunked = model.withOptions(new MuqModel.Options(750, 125, 64));
            compare(f, r, "last_hidden_state", Nd4j.create(chunked.encode(x, cfg.encoderDepth()), new long[] {1, tok, d}, 'c'));
            if (f.json().path("extra_files").has("model.safetensors")) {
                try (TensorSource st = Checkpoints.open(f.file("model.safetensors"))) {
                    MuqModel fromSt = MuqModel.load(st, cfg, MuqModel.Options.defaults());
                    INDArray last = Nd4j.create(fromSt.encode(x, cfg.encoderDepth()), new long[] {1, tok, d}, 'c');
                    r.compare("last_hidden_state (model.safetensors)", last, f.tensor("last_hidden_state"), tolerance(f, "last_hidden_state"));
                }
            }
            List<String> unused = model.unusedKeys();
            boolean onlyDead = !unused.isEmpty() && unused.stream().allMatch(k -> MuqWeights.isUnused(k, "model."));
            r.check("unused keys skipped (" + unused.size() + ": pos_conv_embed, linear, cls_token, rvq)", onlyDead, String.join(", ", unused));
        }
    }
}
