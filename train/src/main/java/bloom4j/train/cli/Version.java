package bloom4j.train.cli;

import picocli.CommandLine.IVersionProvider;

/** The version printed by {@code --version}. */
public final class Version implements IVersionProvider {
    @Override public String[] getVersion() {
        String v = Version.class.getPackage().getImplementationVersion();
        return new String[] {"bloom4j " + (v == null ? "dev" : v)};
    }
}
