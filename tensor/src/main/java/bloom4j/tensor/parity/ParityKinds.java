package bloom4j.tensor.parity;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;

/** The registry of {@link ParityKind}s on the classpath (META-INF/services/bloom4j.tensor.parity.ParityKind). */
public final class ParityKinds {
    private ParityKinds() {}

    public static List<ParityKind> all() {
        List<ParityKind> out = new ArrayList<>();
        ServiceLoader.load(ParityKind.class).forEach(out::add);
        out.sort(Comparator.comparing(ParityKind::kind));
        return out;
    }

    public static Optional<ParityKind> find(String kind) {
        return all().stream().filter(k -> k.kind().equals(kind)).findFirst();
    }
}
