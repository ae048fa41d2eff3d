package bloom4j.convert;

import bloom4j.models.muq.MuqModel;
import bloom4j.models.muq.MuqWeights;
import bloom4j.tensor.DType;
import bloom4j.tensor.TensorInfo;
import bloom4j.tensor.io.Checkpoints;
import bloom4j.tensor.io.RawTensor;
import bloom4j.tensor.io.RawTensors;
import bloom4j.tensor.io.SafeTensorsWriter;
import bloom4j.tensor.io.TensorSource;
import bloom4j.tensor.util.AtomicFiles;
import bloom4j.tensor.util.Progress;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.LongConsumer;

/**
 * Turns upstream PyTorch checkpoints (.pt/.pth/.bin, Lightning .ckpt, safetensors) into a bloom4j model folder:
 * <pre>
 *   config.json         {"bloom4j_format": 1, "model_type": "songbloom", "torch_dtype": "float32", "upstream_config": {...}}
 *   model.safetensors   (or model-0000i-of-0000n.safetensors + model.safetensors.index.json above the shard size)
 *   provenance.json     source files with size and SHA-256, tensor counts, bloom4j version, time
 * </pre>
 * Parameter names are kept exactly as upstream wrote them, so the folder also loads in PyTorch; weight-norm pairs
 * ({@code weight_g}/{@code weight_v}) stay as they are and are folded when a model loads. The folder is built in a hidden
 * staging folder and renamed into place at the end: an interrupted conversion never leaves a folder that looks complete.
 */
public final class Converter {
    public static final int FORMAT_VERSION = 1;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private Converter() {}

    public static ConvertResult convert(ConvertOptions o, boolean showProgress) throws IOException {
        List<TensorSource> sources = new ArrayList<>();
        Path staging = null;
        try {
            Map<String, TensorSource> owner = new LinkedHashMap<>();
            for (Path p : o.sources()) {
                TensorSource s = Checkpoints.open(p, o.allowExpandedViews());
                sources.add(s);
                for (String n : s.names()) {
                    TensorSource prev = owner.putIfAbsent(n, s);
                    if (prev != null) {
                        throw new IOException("tensor '" + n + "' is in both " + prev.description() + " and " + s.description()
                                + "; pass each weight once");
                    }
                }
            }
            ModelKind detected = ModelKind.detect(owner.keySet());
            ModelKind kind = resolveKind(o.kind(), detected, owner.keySet());
            List<String> skipped = List.of();
            if (kind == ModelKind.MUQ) {
                // MuQ checkpoints carry modules its forward never calls (pos_conv_embed, the target head and RVQ, cls_token):
                // left out of the folder and listed, never an error.
                String prefix = muqPrefix(owner.keySet());
                skipped = MuqWeights.unusedKeys(List.copyOf(owner.keySet()), prefix);
                skipped.forEach(owner::remove);
            }
            JsonNode upstream = o.upstreamConfig() == null ? null : readConfig(o.upstreamConfig());
            MergedSource merged = new MergedSource(owner, o.dtype());
            List<String> warnings = kind.configHook().check(upstream, merged);

            staging = AtomicFiles.stagingDirFor(o.output());
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("format", "pt");
            meta.put("bloom4j_model_type", kind.id());
            List<Path> files;
            try (Progress bar = showProgress ? Progress.start("convert", owner.size(), "tensors") : Progress.silent()) {
                merged.onRead(bar::step);
                files = SafeTensorsWriter.writeSharded(staging, merged, meta, o.maxShardBytes());
            }
            long elements = 0, bytes = 0;
            for (String n : merged.names()) {
                TensorInfo i = merged.info(n);
                elements += i.numel();
                bytes += i.byteSize();
            }

            AtomicFiles.writeString(staging.resolve("config.json"), JSON.writeValueAsString(config(kind, o.dtype(), upstream)));
            AtomicFiles.writeString(staging.resolve("provenance.json"),
                    JSON.writeValueAsString(provenance(o, kind, detected, owner.size(), elements, skipped, showProgress)));
            AtomicFiles.publishDir(staging, o.output());
            staging = null;
            List<Path> published = files.stream().map(f -> o.output().resolve(f.getFileName())).toList();
            return new ConvertResult(o.output(), kind, published, owner.size(), elements, bytes, skipped, warnings);
        } finally {
            AtomicFiles.deleteTree(staging);
            for (TensorSource s : sources) s.close();
        }
    }

    /**
     * The tensors of all sources as one, in source order, floating tensors cast to the target dtype as each is read: the writer
     * pulls one tensor at a time, so converting never holds the whole model in memory.
     */
    private static final class MergedSource implements TensorSource {
        private final Map<String, TensorSource> owner;
        private final DType dtype;
        private final List<String> names;
        private LongConsumer onRead = n -> { };

        MergedSource(Map<String, TensorSource> owner, DType dtype) {
            this.owner = owner;
            this.dtype = dtype;
            this.names = List.copyOf(owner.keySet());
        }

        void onRead(LongConsumer c) { onRead = c; }

        @Override public String description() { return "sources " + owner.values().stream().distinct().map(TensorSource::description).toList(); }

        @Override public List<String> names() { return names; }

        @Override public TensorInfo info(String name) throws IOException {
            TensorInfo i = source(name).info(name);
            return i.dtype().isFloatingPoint() ? new TensorInfo(name, dtype, i.shape()) : i;
        }

        @Override public RawTensor raw(String name) throws IOException {
            RawTensor t = RawTensors.castFloating(source(name).raw(name), dtype);
            onRead.accept(1);
            return t;
        }

        private TensorSource source(String name) throws IOException {
            TensorSource s = owner.get(name);
            if (s == null) throw new IOException("no tensor '" + name + "' in " + description());
            return s;
        }

        @Override public void close() { /* the sources are closed by the converter */ }
    }

    /** The prefix of a MuQ checkpoint's keys: {@code model.} as released; anything else is refused with the expected names. */
    private static String muqPrefix(Set<String> names) throws IOException {
        try {
            String p = MuqModel.detectPrefix(List.copyOf(names));
            if (!p.equals(MuqWeights.PREFIX)) {
                throw new IllegalArgumentException("its MuQ keys are under '" + p + "', not 'model.'");
            }
            return p;
        } catch (IllegalArgumentException e) {
            throw new IOException("not a MuQ checkpoint bloom4j converts (" + e.getMessage() + "): expected the released MuQ state dict "
                    + "with keys under 'model.' such as 'model.conv.linear.weight' and 'model.conformer.layers.0.*' (model.safetensors "
                    + "or pytorch_model.bin of OpenMuQ/MuQ-large-msd-iter)", e);
        }
    }

    private static ModelKind resolveKind(ModelKind asked, ModelKind detected, Set<String> names) throws IOException {
        if (asked == null) return detected;
        if (asked.score(names) == 0 && asked != ModelKind.GENERIC) {
            throw new IOException("--model " + asked.id() + " does not match the checkpoint: none of its " + names.size()
                    + " parameter names looks like " + asked.id() + " (they look like " + detected.id()
                    + "); pass --model " + detected.id() + " or --model auto");
        }
        return asked;
    }

    static JsonNode readConfig(Path p) throws IOException {
        String name = p.getFileName().toString().toLowerCase(Locale.ROOT);
        ObjectMapper m = name.endsWith(".yaml") || name.endsWith(".yml") ? new ObjectMapper(new YAMLFactory()) : JSON;
        try {
            JsonNode n = m.readTree(p.toFile());
            if (n == null || !n.isObject()) throw new IOException(p + ": expected a mapping at the top level of the config");
            return n;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IOException(p + ": not valid " + (m == JSON ? "JSON" : "YAML") + ": " + e.getOriginalMessage(), e);
        }
    }

    private static ObjectNode config(ModelKind kind, DType dtype, JsonNode upstream) {
        ObjectNode c = JSON.createObjectNode();
        c.put("bloom4j_format", FORMAT_VERSION);
        c.put("model_type", kind.id());
        c.put("torch_dtype", dtype.torchName());
        if (upstream != null) c.set("upstream_config", upstream);
        return c;
    }

    private static ObjectNode provenance(ConvertOptions o, ModelKind kind, ModelKind detected, int tensors, long elements,
                                         List<String> skipped, boolean showProgress) throws IOException {
        ObjectNode p = JSON.createObjectNode();
        p.put("tool", "bloom4j convert");
        p.put("bloom4j_version", Converter.class.getPackage().getImplementationVersion() == null ? "dev"
                : Converter.class.getPackage().getImplementationVersion());
        p.put("created", Instant.now().toString());
        p.put("model_type", kind.id());
        p.put("detected_model_type", detected.id());
        p.put("dtype", o.dtype().torchName());
        p.put("tensors", tensors);
        p.put("elements", elements);
        if (!skipped.isEmpty()) {
            ArrayNode sk = p.putArray("skipped_unused");
            skipped.forEach(sk::add);
        }
        ArrayNode src = p.putArray("sources");
        for (Path f : o.sources()) {
            ObjectNode s = src.addObject();
            s.put("file", f.getFileName().toString());
            s.put("path", f.toAbsolutePath().toString());
            s.put("format", Checkpoints.detect(f).description());
            s.put("bytes", Files.size(f));
            s.put("sha256", sha256(f, showProgress));
        }
        if (o.upstreamConfig() != null) {
            ObjectNode c = p.putObject("upstream_config");
            c.put("file", o.upstreamConfig().getFileName().toString());
            c.put("sha256", sha256(o.upstreamConfig(), false));
        }
        return p;
    }

    static String sha256(Path f, boolean showProgress) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
        if (Files.isDirectory(f)) return "";
        long size = Files.size(f);
        try (InputStream in = new DigestInputStream(Files.newInputStream(f), md);
             Progress bar = showProgress && size > (256 << 20) ? Progress.start("sha256 " + f.getFileName(), size >> 20, "MB")
                     : Progress.silent()) {
            byte[] buf = new byte[1 << 20];
            long read = 0;
            for (int r; (r = in.read(buf)) > 0; ) {
                read += r;
                bar.set(read >> 20);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
