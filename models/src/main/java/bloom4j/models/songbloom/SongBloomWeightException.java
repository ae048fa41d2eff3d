package bloom4j.models.songbloom;

import java.io.IOException;

/**
 * A SongBloom checkpoint whose tensors do not fit what the model code expects: a missing key, a wrong rank or shape, or two tables
 * that disagree. The message names the source, the key, what was expected and what was found.
 */
public class SongBloomWeightException extends IOException {
    public SongBloomWeightException(String message) {
        super(message);
    }
}
