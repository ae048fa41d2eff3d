package bloom4j.tensor.audio;

import de.sciss.jump3r.lowlevel.LameEncoder;
import fr.delthas.javamp3.Sound;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * MP3: decoding with JavaMP3 ({@code fr.delthas:javamp3}, MPEG-1 Layer III, 16-bit output scaled by 1/32768), encoding with
 * jump3r ({@code de.sciss:jump3r}, LAME 3.98 in Java), 320 kbit/s CBR, joint stereo chosen by LAME.
 *
 * <p>Neither trims the encoder delay (LAME's ≈ 1105 leading samples) or the padding of the last frame: a decoded MP3 is
 * slightly longer than what was encoded and starts with near-silence, as with most decoders that ignore the LAME gapless tag.
 */
final class Mp3Codec {
    static final int BITRATE = 320;

    private Mp3Codec() {}

    static Audio read(Path file, double maxSeconds) throws IOException {
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16); Sound sound = new Sound(raw)) {
            int ch = sound.isStereo() ? 2 : 1;
            int rate = sound.getSamplingFrequency();
            ByteArrayOutputStream pcm = new ByteArrayOutputStream(1 << 20);
            byte[] buf = new byte[1 << 16];                                           // decodeFullyInto stops after one frame
            long limitFrames = AudioIO.frameLimit(maxSeconds, rate);
            long limitBytes = limitFrames >= Long.MAX_VALUE / 4 ? Long.MAX_VALUE : limitFrames * 2L * ch;
            for (int r; pcm.size() < limitBytes && (r = sound.read(buf)) > 0; ) pcm.write(buf, 0, r);
            ByteBuffer b = ByteBuffer.wrap(pcm.toByteArray()).order(sound.getAudioFormat().isBigEndian()
                    ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
            int frames = (int) Math.min(b.remaining() / (2 * ch), limitFrames);
            float[][] out = new float[ch][frames];
            for (int i = 0; i < frames; i++) for (int c = 0; c < ch; c++) out[c][i] = b.getShort() / 32768f;
            return Audio.wrap(out, rate);
        } catch (IOException | RuntimeException e) {
            throw new AudioFileException(file, "invalid or unsupported MP3 stream (bloom4j decodes MPEG-1 Layer III; " + e + ")", e);
        }
    }

    static void write(Path file, Audio audio) throws IOException {
        int ch = audio.channels();
        int rate = audio.sampleRate();
        if (ch > 2) throw new AudioFileException(file, "MP3 holds 1 or 2 channels, got " + ch + ": mix down first (Audio.mono())");
        if (rate != 32000 && rate != 44100 && rate != 48000) {
            throw new AudioFileException(file, "MP3 (MPEG-1 Layer III) needs 32000, 44100 or 48000 Hz, got " + rate
                    + ": resample first (Resampler.resample(audio, 48000))");
        }
        javax.sound.sampled.AudioFormat src = new javax.sound.sampled.AudioFormat(rate, 16, ch, true, false);
        LameEncoder enc = new LameEncoder(src, BITRATE, LameEncoder.CHANNEL_MODE_AUTO, LameEncoder.QUALITY_HIGH, false);
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 16)) {
            int chunk = enc.getPCMBufferSize();                                     // bytes of 16-bit PCM per call
            int framesPerChunk = chunk / (2 * ch);
            byte[] pcm = new byte[framesPerChunk * 2 * ch];
            byte[] mp3 = new byte[enc.getMP3BufferSize()];
            ByteBuffer bb = ByteBuffer.wrap(pcm).order(ByteOrder.LITTLE_ENDIAN);
            float[][] s = new float[ch][];
            for (int c = 0; c < ch; c++) s[c] = audio.channelView(c);
            int frames = audio.frames();
            for (int i0 = 0; i0 < frames; i0 += framesPerChunk) {
                int n = Math.min(framesPerChunk, frames - i0);
                bb.clear();
                for (int i = 0; i < n; i++) for (int c = 0; c < ch; c++) bb.putShort(WavCodec.toPcm16(s[c][i0 + i]));
                int written = enc.encodeBuffer(pcm, 0, n * 2 * ch, mp3);
                if (written < 0) throw new AudioFileException(file, "MP3 encoder failed (LAME code " + written + ")");
                out.write(mp3, 0, written);
            }
            int last = enc.encodeFinish(mp3);
            if (last < 0) throw new AudioFileException(file, "MP3 encoder failed to flush (LAME code " + last + ")");
            out.write(mp3, 0, last);
        } finally {
            enc.close();
        }
    }
}
