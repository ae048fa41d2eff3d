package bloom4j.train.vq;

import bloom4j.models.muq.MuqModel;
import bloom4j.train.sketch.AudioReader;

import java.io.IOException;
import java.nio.file.Path;

/** The vectors a codebook is trained on: one audio file → its frames {@code [T, dim]} (row-major). */
public interface FrameSource {

    int dim();

    /** What made the frames (recorded in the codebook and in cache keys), e.g. "muq-large layer 12". */
    String describe();

    float[] frames(Path audio) throws IOException;

    /** MuQ hidden state {@code layer} of each file read mono at 24 kHz. */
    static FrameSource muq(MuqModel muq, AudioReader reader, int layer, String modelName) {
        if (layer > muq.config().encoderDepth()) {
            throw new IllegalArgumentException("--layer " + layer + ": MuQ has hidden states 0 (conv stem) .. " + muq.config().encoderDepth());
        }
        return new FrameSource() {
            @Override public int dim() { return muq.config().encoderDim(); }

            @Override public String describe() { return modelName + " layer " + layer; }

            @Override public float[] frames(Path audio) throws IOException {
                return muq.encode(AudioReader.at24k(reader.read(audio), audio), layer);
            }
        };
    }
}
