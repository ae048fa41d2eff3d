package bloom4j.models.songbloom;

/** A sketch token, or a VQ codebook, that does not fit the model's sketch vocabulary. Ids are never clamped. */
public class SketchTokenException extends IllegalArgumentException {
    public SketchTokenException(String message) {
        super(message);
    }
}
