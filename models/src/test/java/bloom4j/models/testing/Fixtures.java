package bloom4j.models.testing;

import bloom4j.tensor.parity.ParityRunner;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reference fixtures copied under src/test/resources/fixtures (tests never read the shared folder). */
public final class Fixtures {
    private Fixtures() {}

    /** The folder of fixture {@code name} on the test classpath. */
    public static Path dir(String name) {
        URL url = Fixtures.class.getResource("/fixtures/" + name + "/fixture.json");
        if (url == null) throw new IllegalStateException("test fixture " + name + " is missing from src/test/resources/fixtures");
        try {
            return Path.of(url.toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Runs {@code bloom4j parity} on the fixture and asserts PASS; returns the printed report. */
    public static String assertParity(String name) throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        ParityRunner.Outcome o = ParityRunner.run(dir(name), new PrintStream(buf, true, StandardCharsets.UTF_8));
        String out = buf.toString(StandardCharsets.UTF_8);
        System.out.println(out);
        assertTrue(o.passed(), out);
        return out;
    }
}
