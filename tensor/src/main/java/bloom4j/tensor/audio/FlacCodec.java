package bloom4j.tensor.audio;

import net.sourceforge.javaflacencoder.EncodingConfiguration;
import net.sourceforge.javaflacencoder.FLACEncoder;
import net.sourceforge.javaflacencoder.FLACFileOutputStream;
import net.sourceforge.javaflacencoder.StreamConfiguration;
import org.kc7bfi.jflac.ChannelData;
import org.kc7bfi.jflac.FLACDecoder;
import org.kc7bfi.jflac.frame.Frame;
import org.kc7bfi.jflac.metadata.StreamInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * FLAC through {@code com.tianscar.javasound:javasound-flac}: the JustFLAC decoder (a port of libFLAC's) and javaFlacEncoder.
 * Decoded integers scale by {@code 1/2^(bits−1)}, as torchaudio's. Writes 24-bit.
 */
final class FlacCodec {
    private static final Logger log = LoggerFactory.getLogger(FlacCodec.class);
    static final int WRITE_BITS = 24;

    private FlacCodec() {}

    static Audio read(Path file, double maxSeconds) throws IOException {
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            FLACDecoder d = new FLACDecoder(in);
            d.readMetadata();
            StreamInfo si = d.getStreamInfo();
            if (si == null) throw new AudioFileException(file, "FLAC stream without STREAMINFO block");
            int ch = si.getChannels();
            int bits = si.getBitsPerSample();
            if (ch < 1 || bits < 4 || bits > 32 || si.getSampleRate() <= 0) {
                throw new AudioFileException(file, "FLAC STREAMINFO declares " + ch + " channels, " + bits + " bits, "
                        + si.getSampleRate() + " Hz");
            }
            long total = si.getTotalSamples();
            if (total > Integer.MAX_VALUE - 16) throw new AudioFileException(file, total + " frames are more than bloom4j can hold");
            long limit = AudioIO.frameLimit(maxSeconds, si.getSampleRate());
            // Grow with the decoded frames: a STREAMINFO that declares 2^31 samples must not allocate them up front.
            float[][] out = new float[ch][(int) Math.min(Math.min(total > 0 ? total : 1 << 16, limit), 1 << 20)];
            double scale = 1.0 / (1L << (bits - 1));
            int n = 0;
            Frame f;
            while (n < limit && (f = d.readNextFrame()) != null) {
                int bs = f.header.blockSize;
                if (n + bs > out[0].length) {
                    int cap = Math.max(out[0].length * 2, n + bs);
                    for (int c = 0; c < ch; c++) out[c] = Arrays.copyOf(out[c], cap);
                }
                ChannelData[] cd = d.getChannelData();
                for (int c = 0; c < ch; c++) {
                    int[] v = cd[c].getOutput();
                    for (int i = 0; i < bs; i++) out[c][n + i] = (float) (v[i] * scale);
                }
                n += bs;
            }
            if (d.getBadFrames() > 0) log.warn("{}: skipped {} corrupt FLAC frame(s)", file, d.getBadFrames());
            if (n == 0 && total != 0) throw new AudioFileException(file, "no decodable FLAC frame");
            n = (int) Math.min(n, limit);
            for (int c = 0; c < ch; c++) if (out[c].length != n) out[c] = Arrays.copyOf(out[c], n);
            return Audio.wrap(out, si.getSampleRate());
        } catch (AudioFileException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new AudioFileException(file, "invalid or unsupported FLAC stream (" + e + ")", e);
        }
    }

    static void write(Path file, Audio audio) throws IOException {
        int ch = audio.channels();
        if (ch > StreamConfiguration.MAX_CHANNEL_COUNT) {
            throw new AudioFileException(file, "FLAC holds at most " + StreamConfiguration.MAX_CHANNEL_COUNT + " channels, got " + ch);
        }
        StreamConfiguration sc = new StreamConfiguration();
        if (!sc.setChannelCount(ch) || !sc.setSampleRate(audio.sampleRate()) || !sc.setBitsPerSample(WRITE_BITS)) {
            throw new AudioFileException(file, "FLAC cannot store " + ch + " channels at " + audio.sampleRate() + " Hz");
        }
        // javaFlacEncoder's fixed-predictor subframe needs at least 5 samples per block, so the block size is chosen to leave no
        // short final block; inputs under 16 frames are stored verbatim. Fixed predictors rather than EXHAUSTIVE, whose verbatim
        // fallback prints to stderr: files are somewhat larger than libFLAC's, never lossy.
        int frames = audio.frames();
        int block = blockSize(frames);
        sc.setMaxBlockSize(block);
        sc.setMinBlockSize(block);
        EncodingConfiguration ec = new EncodingConfiguration();
        ec.setSubframeType(frames < MIN_TAIL ? EncodingConfiguration.SubframeType.VERBATIM : EncodingConfiguration.SubframeType.FIXED);
        FLACEncoder enc = new FLACEncoder();
        // Encoding runs in this thread (encodeSamples), but the encoder needs a thread manager to exist: with a count of 0 it
        // dereferences the absent manager after each block, and its threaded path (t_encodeSamples) can deadlock.
        if (!enc.setThreadCount(1) || !enc.setStreamConfiguration(sc) || !enc.setEncodingConfiguration(ec)) {
            throw new AudioFileException(file, "FLAC encoder rejected its configuration");
        }
        FLACFileOutputStream out = new FLACFileOutputStream(file.toFile());
        try {
            enc.setOutputStream(out);
            enc.openFLACStream();
            int[] interleaved = new int[block * ch];
            float[][] s = new float[ch][];
            for (int c = 0; c < ch; c++) s[c] = audio.channelView(c);
            double full = 1 << (WRITE_BITS - 1);
            for (int i0 = 0; i0 < frames; i0 += block) {
                int n = Math.min(block, frames - i0);
                for (int i = 0; i < n; i++) {
                    for (int c = 0; c < ch; c++) interleaved[i * ch + c] = toInt(s[c][i0 + i], full);
                }
                enc.addSamples(interleaved, n);
                enc.encodeSamples(enc.fullBlockSamplesAvailableToEncode(), false);
            }
            enc.encodeSamples(enc.samplesAvailableToEncode(), true);
        } finally {
            out.close();
        }
    }

    private static final int MIN_TAIL = 16;

    /** 4096 or the largest size below it (down to 1024) whose last block is empty or at least {@link #MIN_TAIL} frames. */
    static int blockSize(int frames) {
        for (int b = 4096; b >= 1024; b--) {
            int tail = frames % b;
            if (tail == 0 || tail >= MIN_TAIL) return b;
        }
        return 4096;                                                  // unreachable: some b in [4081, 4096] divides or leaves >= 16
    }

    private static int toInt(float x, double full) {
        if (Float.isNaN(x)) return 0;
        long v = Math.round(x * full);
        return (int) Math.max(-(long) full, Math.min((long) full - 1, v));
    }
}
