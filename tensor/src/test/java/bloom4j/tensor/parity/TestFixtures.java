package bloom4j.tensor.parity;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The reference fixtures every module's tests use, from their one copy in {@code tensor/src/test/resources/fixtures/<name>/}
 * (shared through the tensor test-jar), or the ones bloom4j ships in its main resources ({@code /bloom4j/fixtures/}, e.g.
 * {@code pt-formats} for quickstart). Inside a reactor build the folder is read where it is; from an installed test-jar it is
 * unpacked once per JVM into a temporary folder. Tests never read the shared fixture folder outside the repository.
 */
public final class TestFixtures {
    private static final Map<String, Path> DIRS = new ConcurrentHashMap<>();

    private TestFixtures() {}

    /** The folder of fixture {@code name}. */
    public static Path dir(String name) {
        return DIRS.computeIfAbsent(name, TestFixtures::locate);
    }

    /** A file of fixture {@code name}. */
    public static Path file(String name, String file) { return dir(name).resolve(file); }

    /** Fixture {@code name} opened with the parity harness. */
    public static Fixture open(String name) throws IOException { return Fixture.open(dir(name)); }

    /** Runs {@code bloom4j parity} on the fixture and asserts PASS; returns the printed report. */
    public static String assertParity(String name) throws Exception { return runAsserted(name).printed(); }

    /** {@link #assertParity}, returning the report (its lines, e.g. to count the numeric comparisons). */
    public static ParityReport assertParityReport(String name) throws Exception { return runAsserted(name).outcome().report(); }

    private record Run(ParityRunner.Outcome outcome, String printed) { }

    private static Run runAsserted(String name) throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        ParityRunner.Outcome o = ParityRunner.run(dir(name), new PrintStream(buf, true, StandardCharsets.UTF_8));
        String out = buf.toString(StandardCharsets.UTF_8);
        System.out.println(out);
        assertTrue(o.passed(), out);
        return new Run(o, out);
    }

    private static Path locate(String name) {
        for (String base : new String[] {"/fixtures/", "/bloom4j/fixtures/"}) {
            URL url = TestFixtures.class.getResource(base + name + "/fixture.json");
            if (url == null) continue;
            try {
                URI uri = url.toURI();
                if ("file".equals(uri.getScheme())) return Path.of(uri).getParent();
                return unpack(uri, name);
            } catch (URISyntaxException e) {
                throw new IllegalStateException(e);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        throw new IllegalStateException("test fixture '" + name + "' is not on the test classpath: it belongs in "
                + "tensor/src/test/resources/fixtures/" + name + "/ (with the tensor test-jar as a test dependency)");
    }

    /** Copies the fixture folder out of a jar into a temporary folder deleted when the JVM exits. */
    private static Path unpack(URI fixtureJson, String name) throws IOException {
        FileSystem fs;
        try {
            fs = FileSystems.newFileSystem(fixtureJson, Map.of());
        } catch (FileSystemAlreadyExistsException e) {
            fs = FileSystems.getFileSystem(fixtureJson);
        }
        Path src = fs.provider().getPath(fixtureJson).getParent();
        Path dest = Files.createTempDirectory("bloom4j-fixture-" + name + "-");
        try (Stream<Path> s = Files.walk(src)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                Path to = dest.resolve(src.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(to);
                else Files.copy(p, to);
            }
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try (Stream<Path> s = Files.walk(dest)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException ignored) {
                // a temporary folder left behind is harmless
            }
        }));
        return dest;
    }
}
