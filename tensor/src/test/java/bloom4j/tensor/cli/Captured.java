package bloom4j.tensor.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.function.IntSupplier;

/** A command line run in-process with stdout and stderr captured together (test helper shared through the tensor test-jar). */
public record Captured(int exitCode, String output) {

    public static Captured run(IntSupplier command) {
        PrintStream out = System.out, err = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream p = new PrintStream(buf, true, StandardCharsets.UTF_8);
        System.setOut(p);
        System.setErr(p);
        try {
            return new Captured(command.getAsInt(), buf.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }
}
