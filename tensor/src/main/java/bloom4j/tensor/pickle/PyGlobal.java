package bloom4j.tensor.pickle;

/**
 * A module-level name a pickle referred to with {@code GLOBAL}/{@code STACK_GLOBAL}, after the allow-list accepted it: a class or
 * function is never imported or run, only named. It appears in the object tree where the file stored the class itself as a value
 * (omegaconf records {@code typing.Any} and {@code builtins.dict} as element types).
 *
 * <p>The Python 2 module name {@code __builtin__} is normalised to {@code builtins}, as Python's own unpickler does.
 */
public record PyGlobal(String module, String name) {

    /** {@code module.name}, the spelling used in error messages and allow-lists. */
    public String qualifiedName() { return module + "." + name; }

    @Override public String toString() { return qualifiedName(); }
}
