package bloom4j.convert.cli;

import bloom4j.convert.Inspection;
import bloom4j.convert.Inspector;
import bloom4j.tensor.DType;
import bloom4j.tensor.TensorInfo;
import bloom4j.tensor.util.Printable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code bloom4j inspect FILE...}: every tensor (name, dtype, shape, elements) and the totals. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "List the tensors of .pt/.pth/.bin/.ckpt/.safetensors files (or a sharded model.safetensors.index.json).")
final class InspectCommand implements Callable<Integer> {

    @Parameters(arity = "1..*", paramLabel = "FILE", description = "checkpoint files or bloom4j model folders")
    List<Path> files;

    @Option(names = "--summary", description = "print only the totals")
    boolean summary;

    @Override public Integer call() throws Exception {
        for (Path f : files) {
            Inspection in = Inspector.inspect(f);
            System.out.println("# " + Printable.escape(f.toString()) + " (" + in.format() + ", looks like: " + in.kind().id() + ")");
            for (Map.Entry<String, String> m : in.metadata().entrySet()) {
                System.out.println("#   " + Printable.escape(m.getKey()) + " = " + Printable.escape(m.getValue()));
            }
            if (!summary) {
                int w = in.tensors().stream().mapToInt(t -> Printable.escape(t.name()).length()).max().orElse(4);
                for (TensorInfo t : in.tensors()) {
                    System.out.printf(Locale.ROOT, "%-" + w + "s  %-5s %-20s %,d%n", Printable.escape(t.name()), t.dtype(),
                            Arrays.toString(t.shape()), t.numel());
                }
            }
            StringBuilder by = new StringBuilder();
            for (Map.Entry<DType, Long> e : in.elementsByDtype().entrySet()) {
                by.append(by.length() == 0 ? "" : ", ").append(e.getKey()).append(' ').append(String.format(Locale.ROOT, "%,d", e.getValue()));
            }
            System.out.printf(Locale.ROOT, "total: %d tensors, %,d elements (%s), %,d bytes%n", in.tensors().size(),
                    in.totalElements(), by, in.totalBytes());
        }
        return 0;
    }
}
