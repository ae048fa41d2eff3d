package bloom4j.tensor.parity;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.stream.Collectors;

/**
 * Runs the parity check of one fixture folder: finds the kind, runs it, prints one line per output and, last,
 * {@code parity <kind>: PASS} or {@code parity <kind>: FAIL}.
 */
public final class ParityRunner {
    private ParityRunner() {}

    /** Outcome of a run; {@code supported} is false when no {@link ParityKind} handles the fixture's kind. */
    public record Outcome(String kind, boolean supported, ParityReport report) {
        public boolean passed() { return supported && report != null && report.passed(); }
    }

    public static Outcome run(Path dir, PrintStream out) throws Exception {
        try (Fixture f = Fixture.open(dir)) {
            var kind = ParityKinds.find(f.kind());
            if (kind.isEmpty()) {
                out.println("parity: kind '" + f.kind() + "' of " + dir + " is not supported; supported kinds: "
                        + ParityKinds.all().stream().map(ParityKind::kind).collect(Collectors.joining(", ")));
                return new Outcome(f.kind(), false, null);
            }
            ParityReport report = new ParityReport(f.tolerance(), out::println);
            try {
                kind.get().run(f, report);
            } catch (Exception e) {
                report.check("run", false, e.getClass().getSimpleName() + ": " + e.getMessage());
            }
            out.println("parity " + f.kind() + ": " + (report.passed() ? "PASS" : "FAIL"));
            return new Outcome(f.kind(), true, report);
        }
    }
}
