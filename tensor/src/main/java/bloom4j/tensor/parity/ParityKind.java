package bloom4j.tensor.parity;

/**
 * One computation that {@code bloom4j parity} can check against a fixture of its {@link #kind()}. Implementations live next to
 * the code they exercise (the checkpoint reader, each model) and are found through {@link java.util.ServiceLoader}, so the
 * parity command sees every kind on its classpath and JUnit tests run exactly the same checks.
 */
public interface ParityKind {

    /** The {@code kind} field of fixture.json this handles. */
    String kind();

    /** One line: what is run. */
    String description();

    /** Loads the fixture's checkpoint through bloom4j's own reader, runs the computation, records every comparison. */
    void run(Fixture fixture, ParityReport report) throws Exception;
}
