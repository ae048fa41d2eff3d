package bloom4j.tensor.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine.Command;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CliSupportVersionTest {

    @Command(name = "sub", mixinStandardHelpOptions = true)
    static final class Sub implements Runnable { @Override public void run() { } }

    @Command(name = "root", mixinStandardHelpOptions = true, subcommands = Sub.class)
    static final class Root implements Runnable { @Override public void run() { } }

    @Test void everySubcommandPrintsTheBuildVersion() {
        assertTrue(CliSupport.version().matches("\\d+\\.\\d+\\.\\d+.*"), "filtered by Maven: " + CliSupport.version());
        for (String[] args : new String[][] {{"-V"}, {"sub", "-V"}, {"sub", "--version"}}) {
            Captured r = Captured.run(() -> CliSupport.execute(new Root(), args));
            assertEquals(0, r.exitCode());
            assertEquals("bloom4j " + CliSupport.version(), r.output().trim(), String.join(" ", args));
        }
    }
}
