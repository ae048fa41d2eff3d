package bloom4j.nn.lora;

/** Merging an adapter into its base weight gave non-finite values (PEFT's safe merge refuses the same). */
public class MergeException extends RuntimeException {
    private final String module;

    public MergeException(String module, String message) {
        super(message);
        this.module = module;
    }

    /** The module whose adapter is broken. */
    public String module() { return module; }
}
