package bloom4j.convert.cli;

import bloom4j.convert.ConvertOptions;
import bloom4j.convert.ConvertResult;
import bloom4j.convert.Converter;
import bloom4j.convert.ModelKind;
import bloom4j.tensor.DType;
import bloom4j.tensor.io.PtCheckpoint;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code bloom4j convert --from FILE... --to DIR}: a bloom4j model folder from upstream checkpoints. */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = {"Convert upstream checkpoints (.pt/.pth/.bin, Lightning .ckpt, safetensors) into a bloom4j model folder.",
                "The folder holds config.json, model.safetensors (sharded above --shard-size) with the upstream parameter names, and",
                "provenance.json."})
final class ConvertCommand implements Callable<Integer> {

    @Option(names = "--from", required = true, arity = "1..*", paramLabel = "FILE", description = "source checkpoint(s)")
    List<Path> from;

    @Option(names = "--to", required = true, paramLabel = "DIR", description = "model folder to create (must not exist or be empty)")
    Path to;

    @Option(names = "--model", defaultValue = "auto", paramLabel = "KIND",
            description = "songbloom, muq, zipvoice, vocos, vae or auto (detect from the parameter names; default)")
    String model;

    @Option(names = "--dtype", defaultValue = "f32", paramLabel = "TYPE", description = "f32 (default), bf16 or f16 for floating tensors")
    String dtype;

    @Option(names = "--config", paramLabel = "FILE", description = "the upstream config (yaml or json), kept in config.json")
    Path config;

    @Option(names = "--shard-size", defaultValue = "4GB", paramLabel = "SIZE",
            description = "largest weight file before sharding, e.g. 500MB, 4GB (default 4GB)")
    String shardSize;

    @Option(names = "--allow-expanded-views", description = "read torch views that repeat their storage more than "
            + PtCheckpoint.MAX_EXPANSION + " times (stride 0); only for checkpoints you trust")
    boolean allowExpandedViews;

    @Override public Integer call() throws Exception {
        ModelKind kind = null;
        if (!model.equalsIgnoreCase("auto")) {
            kind = ModelKind.parse(model);
            if (!kind.selectable()) throw new IllegalArgumentException("--model " + model + ": choose songbloom, muq, zipvoice, vocos, vae or auto");
        }
        DType dt = switch (dtype.toLowerCase(Locale.ROOT)) {
            case "f32", "float32", "fp32" -> DType.F32;
            case "bf16", "bfloat16" -> DType.BF16;
            case "f16", "float16", "fp16", "half" -> DType.F16;
            default -> throw new IllegalArgumentException("--dtype " + dtype + ": expected f32, bf16 or f16");
        };
        ConvertResult r = Converter.convert(new ConvertOptions(from, to, kind, dt, config, parseSize(shardSize), allowExpandedViews), true);
        System.out.printf(Locale.ROOT, "converted %d tensors (%,d elements, %,d bytes) of a %s model into %s%n", r.tensors(),
                r.elements(), r.bytes(), r.kind().id(), r.folder());
        for (Path f : r.weightFiles()) System.out.println("  " + f.getFileName());
        if (!r.skipped().isEmpty()) {
            System.out.printf(Locale.ROOT, "skipped %d tensor(s) the %s model never reads (listed in provenance.json):%n", r.skipped().size(),
                    r.kind().id());
            for (String k : r.skipped()) System.out.println("  " + k);
        }
        for (String w : r.warnings()) System.out.println("warning: " + w);
        if (r.kind() == ModelKind.GENERIC) {
            System.out.println("note: the parameter names match no model bloom4j knows; the weights were converted as they are");
        }
        return 0;
    }

    static long parseSize(String s) {
        String t = s.trim().toUpperCase(Locale.ROOT);
        long mult = 1;
        for (String[] u : new String[][] {{"GB", "" + (1L << 30)}, {"MB", "" + (1L << 20)}, {"KB", "" + (1L << 10)}, {"B", "1"}}) {
            if (t.endsWith(u[0])) {
                mult = Long.parseLong(u[1]);
                t = t.substring(0, t.length() - u[0].length()).trim();
                break;
            }
        }
        try {
            long v = Math.multiplyExact(Long.parseLong(t), mult);
            if (v <= 0) throw new NumberFormatException();
            return v;
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("--shard-size " + s + ": expected a positive size such as 500MB or 4GB");
        }
    }
}
