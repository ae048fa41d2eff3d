package bloom4j.models.zipvoice;

import bloom4j.tensor.dsp.MelSpectrogram;
import bloom4j.tensor.io.Checkpoints;
import bloom4j.tensor.io.TensorSource;
import bloom4j.tensor.parity.Fixture;
import bloom4j.tensor.parity.ParityKind;
import bloom4j.tensor.parity.ParityReport;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Parity kind {@code vocos-decode}: {@link Vocos#trace} against upstream {@code Vocos.decode} on given log-mel features (every
 * backbone stage, the head's rows, magnitude and phase, the audio), and {@code Vocos.forward} on a waveform (copy synthesis: the
 * {@link VocosFbank} spectrum without the frame cut, then the decode).
 */
public final class VocosParity implements ParityKind {

    @Override public String kind() { return "vocos-decode"; }

    @Override public String description() { return "Vocos vocoder: ConvNeXt backbone, ISTFT head, decode and copy synthesis"; }

    @Override public void run(Fixture f, ParityReport report) throws Exception {
        Vocos v;
        try (TensorSource w = Checkpoints.open(f.checkpoint())) {
            v = Vocos.load(w);
        }
        compare(f, report, "decode.", v.trace(f.tensor("decode.features")));
        INDArray audio = f.tensor("roundtrip.audio_in").castTo(DataType.FLOAT);
        VocosFbank fb = new VocosFbank();
        MelSpectrogram m = fb.spectrogram();
        long b = audio.size(0);
        INDArray[] spec = new INDArray[(int) b], lin = new INDArray[(int) b], logs = new INDArray[(int) b];
        for (int r = 0; r < b; r++) {
            float[] x = audio.getRow(r).toFloatVector();
            int frames = Math.toIntExact(m.stftFrames(x.length));
            float[] s = m.spectrumFrames(x, 0, frames);
            float[] mel = m.mel(s, frames);
            float[] lg = new float[mel.length];
            for (int i = 0; i < mel.length; i++) lg[i] = (float) Math.log(Math.max(mel[i], VocosFbank.LOG_FLOOR));
            spec[r] = Nd4j.create(MelSpectrogram.transpose(s, frames, m.bins()), new long[] {1, m.bins(), frames}, 'c');
            lin[r] = Nd4j.create(MelSpectrogram.transpose(mel, frames, VocosFbank.N_MELS), new long[] {1, VocosFbank.N_MELS, frames}, 'c');
            logs[r] = Nd4j.create(MelSpectrogram.transpose(lg, frames, VocosFbank.N_MELS), new long[] {1, VocosFbank.N_MELS, frames}, 'c');
        }
        report.compare("roundtrip.spec_mag", Nd4j.concat(0, spec), f.tensor("roundtrip.spec_mag"));
        report.compare("roundtrip.mel_linear", Nd4j.concat(0, lin), f.tensor("roundtrip.mel_linear"));
        INDArray feats = Nd4j.concat(0, logs);
        report.compare("roundtrip.mel", feats, f.tensor("roundtrip.mel"));
        Vocos.Trace t = v.trace(feats);
        compare(f, report, "roundtrip.", t);
        report.compare("roundtrip.audio_out", t.audio(), f.tensor("roundtrip.audio_out"));
    }

    private static void compare(Fixture f, ParityReport report, String p, Vocos.Trace t) throws java.io.IOException {
        report.compare(p + "backbone.embed", t.embed(), f.tensor(p + "backbone.embed"));
        for (int i = 0; i < t.blocks().size(); i++) report.compare(p + "backbone.convnext" + i, t.blocks().get(i), f.tensor(p + "backbone.convnext" + i));
        report.compare(p + "backbone.hidden", t.hidden(), f.tensor(p + "backbone.hidden"));
        report.compare(p + "head.linear", t.linear(), f.tensor(p + "head.linear"));
        report.compare(p + "head.mag", t.mag(), f.tensor(p + "head.mag"));
        report.compare(p + "head.phase", t.phase(), f.tensor(p + "head.phase"));
        if (p.equals("decode.")) report.compare("decode.audio", t.audio(), f.tensor("decode.audio"));
    }
}
