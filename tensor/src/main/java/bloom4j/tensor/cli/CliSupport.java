package bloom4j.tensor.cli;

import picocli.CommandLine;
import picocli.CommandLine.IVersionProvider;

import java.io.PrintWriter;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;

/**
 * The plumbing every bloom4j command line shares: how it runs, what it prints for {@code --version}, and what it does with an
 * exception: one clear line (the message names the file and field), the causes that add
 * information, and a stack trace only with {@code BLOOM4J_DEBUG=1}. Exit codes: 1 runtime failure, 2 usage error.
 */
public final class CliSupport {
    public static final int EXIT_FAILURE = 1;
    public static final int EXIT_USAGE = 2;

    private CliSupport() {}

    /** Runs a picocli command object with bloom4j's error reporting; returns the exit code (0 ok, 1 failure, 2 usage). */
    public static int execute(Object command, String... args) {
        return execute(new CommandLine(command), args);
    }

    /** {@link #execute(Object, String...)} for a command tree already assembled (the launcher's root of every module's commands). */
    public static int execute(CommandLine cl, String... args) {
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> report(e, cmd.getErr()));
        withVersion(cl);
        return cl.execute(args);
    }

    /** Every command and subcommand answers {@code -V}/{@code --version} (picocli prints nothing for one without a version). */
    private static void withVersion(CommandLine cl) {
        if (cl.getCommandSpec().version().length == 0) cl.getCommandSpec().versionProvider(new Version());
        for (CommandLine sub : cl.getSubcommands().values()) withVersion(sub);
    }

    /** {@code versionProvider = CliSupport.Version.class} on a root command: the Maven project version, filtered in at build. */
    public static final class Version implements IVersionProvider {
        @Override public String[] getVersion() { return new String[] {"bloom4j " + version()}; }
    }

    /** The build's version ({@code version.properties}, filtered by Maven), or "unknown" when run from unfiltered classes. */
    public static String version() {
        try (java.io.InputStream in = CliSupport.class.getResourceAsStream("version.properties")) {
            if (in == null) return "unknown";
            java.util.Properties p = new java.util.Properties();
            p.load(in);
            String v = p.getProperty("version", "unknown");
            return v.startsWith("${") ? "unknown" : v;
        } catch (java.io.IOException e) {
            return "unknown";
        }
    }

    public static int report(Throwable e, PrintWriter err) {
        err.println("error: " + describe(e));
        for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
            if (c.getMessage() != null && !describe(e).contains(c.getMessage())) err.println("  caused by: " + describe(c));
        }
        if ("1".equals(System.getenv("BLOOM4J_DEBUG"))) e.printStackTrace(err);
        else err.println("  (set BLOOM4J_DEBUG=1 for a stack trace)");
        err.flush();
        return e instanceof IllegalArgumentException ? EXIT_USAGE : EXIT_FAILURE;
    }

    private static String describe(Throwable e) {
        if (e instanceof NoSuchFileException n) return n.getFile() + ": no such file";
        if (e instanceof FileAlreadyExistsException f && f.getReason() == null) return f.getFile() + ": already exists";
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }
}
