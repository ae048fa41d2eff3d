package bloom4j.tensor.cli;

import picocli.CommandLine;

import java.util.ArrayList;
import java.util.List;

/**
 * picocli lists a command's subcommands by the first line of each description only: that line must be a whole sentence, or the
 * parent's {@code --help} shows it cut mid-sentence (test helper shared through the tensor test-jar).
 */
public final class HelpCheck {
    private HelpCheck() {}

    /** The commands under {@code command} (itself included) whose first description line does not end a sentence. */
    public static List<String> cutSummaries(Object command) {
        return cutSummaries(command instanceof CommandLine cl ? cl : new CommandLine(command));
    }

    /** {@link #cutSummaries(Object)} for an assembled tree. */
    public static List<String> cutSummaries(CommandLine tree) {
        List<String> bad = new ArrayList<>();
        walk(tree, bad);
        return bad;
    }

    private static void walk(CommandLine cl, List<String> bad) {
        String[] d = cl.getCommandSpec().usageMessage().description();
        String first = d.length == 0 ? "" : d[0].trim();
        if (first.isEmpty() || !(first.endsWith(".") || first.endsWith("?") || first.endsWith("!"))) {
            bad.add(cl.getCommandSpec().qualifiedName() + ": \"" + first + "\"");
        }
        for (CommandLine sub : cl.getSubcommands().values()) walk(sub, bad);
    }
}
