package bloom4j.nn;

/**
 * A parameter could not be provided as a layer asked for it: absent from the source, of the wrong shape, unreadable, or requested twice
 * with different shapes. The message names the full dotted key, the expected and found shapes, and the source.
 */
public class ParameterException extends RuntimeException {
    private final String key;

    public ParameterException(String key, String message) {
        super(message);
        this.key = key;
    }

    public ParameterException(String key, String message, Throwable cause) {
        super(message, cause);
        this.key = key;
    }

    /** The full dotted key ({@code model.layers.3.self_attn.q_proj.weight}) the problem is about. */
    public String key() { return key; }
}
