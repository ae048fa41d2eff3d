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
 * Parity kind {@code zipvoice-fbank}: {@link VocosFbank} against upstream {@code VocosFbank.extract} on a mono signal with a silent
 * start and a stereo one: the log-mel features, the linear mel before the log, and the window and filterbank (against the buffers
 * of the fixture's checkpoint, read through bloom4j's reader, and the recorded ones).
 */
public final class ZipVoiceFbankParity implements ParityKind {

    @Override public String kind() { return "zipvoice-fbank"; }

    @Override public String description() { return "ZipVoice/Vocos features: 24 kHz log-mel (n_fft 1024, hop 256, 100 mels, magnitude)"; }

    @Override public void run(Fixture f, ParityReport report) throws Exception {
        VocosFbank fb = new VocosFbank();
        MelSpectrogram m = fb.spectrogram();
        report.compare("window", Nd4j.create(m.window()), f.tensor("window"));
        report.compare("mel_fb", Nd4j.create(m.filterbank(), new long[] {m.bins(), VocosFbank.N_MELS}, 'c'), f.tensor("mel_fb"));
        try (TensorSource w = Checkpoints.open(f.checkpoint())) {
            for (String k : w.names()) {
                INDArray v = w.load(k, DataType.FLOAT);
                if (v.rank() == 1 && v.length() == VocosFbank.N_FFT) report.compare("checkpoint " + k, Nd4j.create(m.window()), v);
                else if (v.rank() == 2) report.compare("checkpoint " + k, Nd4j.create(m.filterbank(), new long[] {m.bins(), VocosFbank.N_MELS}, 'c'), v);
            }
        }
        float[] mono = f.tensor("mono.samples").castTo(DataType.FLOAT).toFloatVector();
        int stft = Math.toIntExact(m.stftFrames(mono.length));
        report.compare("mono.mel_linear", Nd4j.create(MelSpectrogram.transpose(fb.melLinear(mono), stft, VocosFbank.N_MELS),
                new long[] {VocosFbank.N_MELS, stft}, 'c'), f.tensor("mono.mel_linear"));
        float[] lm = fb.extract(mono, VocosFbank.SAMPLE_RATE);
        report.compare("mono.logmel", Nd4j.create(lm, new long[] {lm.length / VocosFbank.N_MELS, VocosFbank.N_MELS}, 'c'), f.tensor("mono.logmel"));
        float[][] stereo = f.tensor("stereo.samples").castTo(DataType.FLOAT).toFloatMatrix();
        float[] ls = fb.extract(stereo, VocosFbank.SAMPLE_RATE);
        report.compare("stereo.logmel", Nd4j.create(ls, new long[] {ls.length / VocosFbank.N_MELS, VocosFbank.N_MELS}, 'c'),
                f.tensor("stereo.logmel"));
        boolean refused;
        try {
            fb.extract(mono, 16000);
            refused = false;
        } catch (IllegalArgumentException e) {
            refused = true;
        }
        report.check("audio at another rate refused", refused, "");
    }
}
