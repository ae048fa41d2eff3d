package bloom4j.models.songbloom;

import bloom4j.tensor.parity.Fixture;

import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;

/** The reference fixtures copied into this module's test resources ({@code fixtures/<name>/}), opened with the parity harness. */
final class Fixtures {
    private Fixtures() {}

    static Path dir(String name) {
        URL url = Fixtures.class.getResource("/fixtures/" + name + "/fixture.json");
        if (url == null) throw new IllegalStateException("test resource fixtures/" + name + " is missing");
        try {
            return Path.of(url.toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static Fixture open(String name) throws IOException { return Fixture.open(dir(name)); }
}
