package bloom4j.tensor.audio;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * RIFF/WAVE (and RF64) reading and writing, written here rather than through Java Sound, whose WAV reader refuses IEEE float,
 * 64-bit float and most WAVE_FORMAT_EXTENSIBLE files.
 *
 * <p>Reads format tags 1 (PCM: unsigned 8-bit, signed 16/24/32-bit), 3 (IEEE float 32/64) and 0xFFFE (EXTENSIBLE with a PCM or
 * float sub-format; samples are left-justified in their container, so the container width sets the scale). PCM scales as
 * torchaudio's {@code load(normalize=True)}: int16 by 1/32768, int24 by 1/2^23, int32 by 1/2^31, uint8 as (v − 128)/128.
 * Chunks other than {@code fmt}, {@code data} and {@code ds64} are skipped; a data chunk running past the end of the file (a
 * recording cut short) gives the whole frames present.
 */
final class WavCodec {
    private static final int PCM = 1;
    private static final int FLOAT = 3;
    private static final int EXTENSIBLE = 0xFFFE;
    private static final long MAX_FRAMES = Integer.MAX_VALUE - 16;

    private WavCodec() {}

    static Audio read(Path file, double maxSeconds) throws IOException {
        try (InputStream raw = Files.newInputStream(file); LeInput in = new LeInput(new BufferedInputStream(raw, 1 << 16))) {
            String riff = in.fourCc();
            boolean rf64 = riff.equals("RF64");
            if (!riff.equals("RIFF") && !rf64) throw new AudioFileException(file, "not a WAV file: expected 'RIFF', found '" + riff + "'");
            in.u32();
            String wave = in.fourCc();
            if (!wave.equals("WAVE")) throw new AudioFileException(file, "RIFF file of type '" + wave + "', expected 'WAVE'");
            Format fmt = null;
            long ds64Data = -1;
            while (true) {
                String id;
                try {
                    id = in.fourCc();
                } catch (EOFException e) {
                    throw new AudioFileException(file, fmt == null ? "no 'fmt ' chunk" : "no 'data' chunk");
                }
                long size = in.u32();
                switch (id) {
                    case "ds64" -> {
                        in.u64();                                   // RIFF size
                        ds64Data = in.u64();
                        in.skip(size - 16 + (size & 1));
                    }
                    case "fmt " -> {
                        fmt = Format.parse(file, in, size);
                        in.skip(size & 1);
                    }
                    case "data" -> {
                        if (fmt == null) throw new AudioFileException(file, "'data' chunk before the 'fmt ' chunk");
                        long bytes = rf64 && size == 0xFFFFFFFFL && ds64Data >= 0 ? ds64Data : size;
                        return readData(file, in, fmt, bytes, AudioIO.frameLimit(maxSeconds, fmt.sampleRate));
                    }
                    default -> in.skip(size + (size & 1));
                }
            }
        }
    }

    private static Audio readData(Path file, LeInput in, Format f, long bytes, long limit) throws IOException {
        long frames = bytes / f.blockAlign;
        if (bytes == 0 || bytes == 0xFFFFFFFFL) frames = MAX_FRAMES;   // streamed writers leave the size open: read to the end
        if (frames > MAX_FRAMES && bytes != 0xFFFFFFFFL) {
            throw new AudioFileException(file, frames + " frames exceed the " + MAX_FRAMES + " bloom4j can hold per channel");
        }
        frames = Math.min(frames, limit);
        int ch = f.channels;
        int bps = f.containerBytes;
        float[][] out = new float[ch][(int) Math.min(frames, 1 << 20)];
        byte[] buf = new byte[f.blockAlign * 4096];
        ByteBuffer bb = ByteBuffer.wrap(buf).order(ByteOrder.LITTLE_ENDIAN);
        int n = 0;
        while (n < frames) {
            int want = (int) Math.min(4096, frames - n);
            int got = in.readUpTo(buf, want * f.blockAlign) / f.blockAlign;
            if (got == 0) break;                                         // short file: keep the whole frames read
            if (n + got > out[0].length) {
                int cap = (int) Math.min(frames, Math.max((long) out[0].length * 2, n + got));
                for (int c = 0; c < ch; c++) out[c] = java.util.Arrays.copyOf(out[c], cap);
            }
            for (int i = 0; i < got; i++) {
                int base = i * f.blockAlign;
                for (int c = 0; c < ch; c++) out[c][n + i] = f.sample(bb, base + c * bps);
            }
            n += got;
        }
        for (int c = 0; c < ch; c++) if (out[c].length != n) out[c] = java.util.Arrays.copyOf(out[c], n);
        return Audio.wrap(out, f.sampleRate);
    }

    /** The decoded {@code fmt } chunk. */
    private record Format(int channels, int sampleRate, int blockAlign, int containerBytes, boolean isFloat) {

        static Format parse(Path file, LeInput in, long size) throws IOException {
            if (size < 16) throw new AudioFileException(file, "'fmt ' chunk of " + size + " bytes, expected at least 16");
            int tag = in.u16();
            int channels = in.u16();
            long rate = in.u32();
            in.u32();                                                    // byte rate: derived, not trusted
            int blockAlign = in.u16();
            int bits = in.u16();
            long rest = size - 16;
            int subTag = tag;
            if (tag == EXTENSIBLE) {
                if (size < 40) throw new AudioFileException(file, "WAVE_FORMAT_EXTENSIBLE 'fmt ' chunk of " + size + " bytes, expected 40");
                in.u16();                                                // cbSize
                in.u16();                                                // valid bits: samples are left-justified, the container scales
                in.u32();                                                // channel mask
                subTag = in.u16();                                       // first two bytes of the sub-format GUID
                in.skip(14);
                rest -= 24;
            }
            in.skip(rest);
            if (channels < 1) throw new AudioFileException(file, "WAV header declares " + channels + " channels");
            if (rate < 1 || rate > Integer.MAX_VALUE) throw new AudioFileException(file, "WAV header declares sample rate " + rate);
            int container = (bits + 7) / 8;
            boolean isFloat;
            if (subTag == PCM && (bits == 8 || bits == 16 || bits == 24 || bits == 32 || (tag == EXTENSIBLE && bits <= 32))) {
                isFloat = false;
            } else if (subTag == FLOAT && (bits == 32 || bits == 64)) {
                isFloat = true;
            } else {
                throw new AudioFileException(file, String.format(Locale.ROOT, "unsupported WAV encoding: format tag 0x%04X%s, %d bits; "
                                + "bloom4j reads PCM (8/16/24/32-bit) and IEEE float (32/64-bit), also as WAVE_FORMAT_EXTENSIBLE: "
                                + "convert the file, e.g. 'sox in.wav -e signed -b 16 out.wav'", tag,
                        tag == EXTENSIBLE ? String.format(Locale.ROOT, " (sub-format 0x%04X)", subTag) : "", bits));
            }
            if (blockAlign != channels * container) {
                throw new AudioFileException(file, "WAV block align " + blockAlign + " does not match " + channels + " channels of "
                        + container + " bytes");
            }
            return new Format(channels, (int) rate, blockAlign, container, isFloat);
        }

        float sample(ByteBuffer b, int at) {
            if (isFloat) return containerBytes == 4 ? b.getFloat(at) : (float) b.getDouble(at);
            return switch (containerBytes) {
                case 1 -> ((b.get(at) & 0xFF) - 128) / 128f;
                case 2 -> b.getShort(at) / 32768f;
                case 3 -> ((b.get(at) & 0xFF) | (b.get(at + 1) & 0xFF) << 8 | b.get(at + 2) << 16) / 8388608f;
                default -> (float) (b.getInt(at) / 2147483648.0);
            };
        }
    }

    /** Writes 16-bit PCM or 32-bit float; the caller makes the write atomic. */
    static void write(Path file, Audio audio, boolean asFloat) throws IOException {
        int ch = audio.channels();
        int bytesPer = asFloat ? 4 : 2;
        long frames = audio.frames();
        long data = frames * ch * bytesPer;
        int fmtSize = asFloat ? 18 : 16;
        long riff = 4 + (8 + fmtSize) + (asFloat ? 12 : 0) + 8 + data;
        if (riff > 0xFFFFFFFFL) throw new AudioFileException(file, "audio too long for a WAV file (" + data + " data bytes > 4 GiB)");
        try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(file), 1 << 16)) {
            ByteBuffer h = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
            h.put("RIFF".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putInt((int) riff);
            h.put("WAVEfmt ".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putInt(fmtSize);
            h.putShort((short) (asFloat ? FLOAT : PCM)).putShort((short) ch).putInt(audio.sampleRate())
                    .putInt(audio.sampleRate() * ch * bytesPer).putShort((short) (ch * bytesPer)).putShort((short) (bytesPer * 8));
            if (asFloat) {
                h.putShort((short) 0);                                               // cbSize
                h.put("fact".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putInt(4).putInt((int) frames);
            }
            h.put("data".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putInt((int) data);
            os.write(h.array(), 0, h.position());
            byte[] buf = new byte[4096 * ch * bytesPer];
            ByteBuffer bb = ByteBuffer.wrap(buf).order(ByteOrder.LITTLE_ENDIAN);
            float[][] s = new float[ch][];
            for (int c = 0; c < ch; c++) s[c] = audio.channelView(c);
            for (int i0 = 0; i0 < frames; i0 += 4096) {
                int n = (int) Math.min(4096, frames - i0);
                bb.clear();
                for (int i = i0; i < i0 + n; i++) {
                    for (int c = 0; c < ch; c++) {
                        if (asFloat) bb.putFloat(s[c][i]);
                        else bb.putShort(toPcm16(s[c][i]));
                    }
                }
                os.write(buf, 0, bb.position());
            }
        }
    }

    /** {@code round(x·32768)} clamped to the int16 range (NaN → 0). */
    static short toPcm16(float x) {
        if (Float.isNaN(x)) return 0;
        long v = Math.round(x * 32768.0);
        return (short) Math.max(-32768, Math.min(32767, v));
    }

    /** Little-endian reads over a buffered stream; EOF inside a header is an {@link EOFException}. */
    private static final class LeInput implements AutoCloseable {
        private final InputStream in;
        private final byte[] b8 = new byte[8];

        LeInput(InputStream in) { this.in = in; }

        private void fully(int n) throws IOException {
            int off = 0;
            while (off < n) {
                int r = in.read(b8, off, n - off);
                if (r < 0) throw new EOFException("end of file inside a WAV header");
                off += r;
            }
        }

        String fourCc() throws IOException {
            fully(4);
            return new String(b8, 0, 4, java.nio.charset.StandardCharsets.ISO_8859_1);
        }

        int u16() throws IOException {
            fully(2);
            return (b8[0] & 0xFF) | (b8[1] & 0xFF) << 8;
        }

        long u32() throws IOException {
            fully(4);
            return ByteBuffer.wrap(b8, 0, 4).order(ByteOrder.LITTLE_ENDIAN).getInt() & 0xFFFFFFFFL;
        }

        long u64() throws IOException {
            fully(8);
            return ByteBuffer.wrap(b8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        }

        void skip(long n) throws IOException {
            while (n > 0) {
                long s = in.skip(n);
                if (s <= 0) {
                    if (in.read() < 0) return;                 // skipping past the end of a truncated file: nothing follows
                    s = 1;
                }
                n -= s;
            }
        }

        /** Reads up to {@code n} bytes (fewer only at the end of the file). */
        int readUpTo(byte[] buf, int n) throws IOException {
            int off = 0;
            while (off < n) {
                int r = in.read(buf, off, n - off);
                if (r < 0) break;
                off += r;
            }
            return off;
        }

        @Override public void close() throws IOException { in.close(); }
    }
}
