package bloom4j.nn.lora;

import bloom4j.nn.Graphs;
import bloom4j.nn.Linear;
import bloom4j.nn.LoadOptions;
import bloom4j.nn.ParamSource;
import bloom4j.nn.Params;
import bloom4j.nn.Scope;
import bloom4j.tensor.io.Checkpoints;
import bloom4j.tensor.io.TensorSource;
import bloom4j.tensor.parity.Fixture;
import bloom4j.tensor.parity.ParityKind;
import bloom4j.tensor.parity.ParityReport;
import bloom4j.tensor.util.AtomicFiles;
import com.fasterxml.jackson.databind.JsonNode;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parity kinds {@code lora-linear}, {@code dora-linear} and {@code dora-dropout}: PEFT's {@code lora.Linear} on one
 * {@code nn.Linear}, against the fixture PEFT itself produced (peft@5d602fd). For each case of {@code config.cases} the base layer
 * comes from {@code model.pt} through bloom4j's checkpoint reader and the adapter from the PEFT folder {@code adapter_<case>/} through
 * {@link PeftAdapter}; then:
 * <ul>
 *   <li>the adapter tensors equal the recorded lora_A, lora_B (and magnitude), and the scaling the recorded one;</li>
 *   <li>outputs: eval graph ({@code y_eval}), training graph with the recorded dropout mask if any ({@code y_train}), the loss
 *       {@code sum(y·g)} and its gradients for A, B, the magnitude and x; only the adapter tensors are trainable;</li>
 *   <li>delta weight, DoRA weight norm, merged weight and bias, the merged layer's output, the unmerged weight;</li>
 *   <li>the adapter-folder round trip: the folder written back is byte-identical to PEFT's (config and safetensors), and read again
 *       gives the same eval output.</li>
 * </ul>
 */
public abstract class PeftLinearParity implements ParityKind {
    private final String kind;
    private final String description;

    PeftLinearParity(String kind, String description) {
        this.kind = kind;
        this.description = description;
    }

    /** {@code lora-linear}: LoRA and rsLoRA, no dropout. */
    public static final class LoraLinear extends PeftLinearParity {
        public LoraLinear() { super("lora-linear", "PEFT LoRA / rsLoRA on one Linear: outputs, gradients, merge, adapter folder"); }
    }

    /** {@code dora-linear}: DoRA, no dropout. */
    public static final class DoraLinear extends PeftLinearParity {
        public DoraLinear() { super("dora-linear", "PEFT DoRA on one Linear: outputs, gradients (detached norm), merge, adapter folder"); }
    }

    /** {@code dora-dropout}: DoRA and LoRA with an injected dropout mask. */
    public static final class DoraDropout extends PeftLinearParity {
        public DoraDropout() { super("dora-dropout", "PEFT DoRA and LoRA training with a recorded dropout mask: outputs and gradients"); }
    }

    @Override public String kind() { return kind; }

    @Override public String description() { return description; }

    @Override public void run(Fixture f, ParityReport report) throws Exception {
        JsonNode cases = f.config().path("cases");
        if (!cases.isObject() || cases.isEmpty()) throw new IllegalArgumentException(f.dir() + ": fixture.json has no config.cases");
        Map<String, INDArray> base = new LinkedHashMap<>();
        try (TensorSource ckpt = Checkpoints.open(f.checkpoint())) {
            for (String n : ckpt.names()) base.put(n, ckpt.load(n, DataType.FLOAT));
        }
        String weightKey = base.keySet().stream().filter(k -> k.endsWith(".weight")).findFirst()
                .orElseThrow(() -> new IllegalArgumentException(f.checkpoint() + " holds no '.weight' tensor"));
        String module = weightKey.substring(0, weightKey.length() - ".weight".length());
        long out = base.get(weightKey).size(0), in = base.get(weightKey).size(1);
        boolean bias = base.containsKey(module + ".bias");
        report.check("base layer from " + f.checkpoint().getFileName(), true, module + " [" + out + ", " + in + "]"
                + (bias ? " with bias" : ""));

        for (Iterator<String> it = cases.fieldNames(); it.hasNext(); ) {
            String c = it.next();
            new Case(f, report, c, ParamSource.of(base, f.checkpoint().toString()), module, in, out, bias).run();
        }
    }

    /** One case: the adapter folder {@code adapter_<case>} and the io tensors {@code <case>.*}. */
    private static final class Case {
        final Fixture f;
        final ParityReport report;
        final String c;
        final ParamSource base;
        final String module;
        final long in, out;
        final boolean bias;

        Case(Fixture f, ParityReport report, String c, ParamSource base, String module, long in, long out, boolean bias) {
            this.f = f;
            this.report = report;
            this.c = c;
            this.base = base;
            this.module = module;
            this.in = in;
            this.out = out;
            this.bias = bias;
        }

        boolean has(String name) throws Exception { return f.io().contains(name); }

        INDArray io(String name) throws Exception { return f.tensor(name); }

        void compare(String name, INDArray actual) throws Exception {
            if (has(c + "." + name)) report.compare(c + "." + name, actual, io(c + "." + name));
        }

        void run() throws Exception {
            Path dir = f.dir().resolve("adapter_" + c);
            PeftAdapter adapter = PeftAdapter.read(dir);
            boolean dora = adapter.config().useDora();
            report.compare(c + ".adapter lora_A", adapter.tensors().get(module + ".lora_A.weight"), io("lora_A"));
            report.compare(c + ".adapter lora_B", adapter.tensors().get(module + ".lora_B.weight"), io("lora_B"));
            if (dora) report.compare(c + ".adapter magnitude", adapter.tensors().get(module + ".lora_magnitude_vector"), io("magnitude"));

            // PEFT's layer takes any rank >= 2 ([batch, time, in] in attention); the graph works on rows, so inputs, the upstream
            // gradient and the dropout mask are flattened to [N, last] and outputs shaped back to the fixture's leading dimensions.
            INDArray xFull = io("x");
            if (xFull.rank() < 2) throw new IllegalArgumentException("case '" + c + "': input x must have rank >= 2, got " + xFull.rank());
            long[] lead = java.util.Arrays.copyOf(xFull.shape(), xFull.rank() - 1);
            INDArray x = rows(xFull), g = rows(io("g"));
            long rows = x.size(0);

            // Eval graph: no dropout, the fast DoRA formula.
            Graph eval = new Graph(adapter, false);
            compare("y_eval", shaped(eval.output(Map.of("x", x)), lead));
            INDArray scaling = org.nd4j.linalg.factory.Nd4j.createFromArray(new float[] {(float) eval.layer().scaling()});
            compare("scaling", scaling);

            // Training graph: the recorded dropout mask, when the adapter has dropout.
            Graph train = new Graph(adapter, true);
            Map<String, INDArray> feed = new HashMap<>(Map.of("x", x));
            SDVariable mask = train.layer().dropoutMask();
            if (mask != null) {
                if (!f.io().contains("dropout_mask")) throw new IllegalArgumentException("case '" + c + "' has dropout but no recorded mask");
                feed.put(mask.name(), rows(io("dropout_mask")));
            }
            Map<String, INDArray> grads = train.gradients(feed, g);
            compare("y_train", shaped(grads.get("y"), lead));
            compare("loss", grads.get("loss").reshape(1));
            compare("grad_lora_A", grads.get(train.layer().loraA().name()));
            compare("grad_lora_B", grads.get(train.layer().loraB().name()));
            if (dora) compare("grad_magnitude", grads.get(train.layer().magnitude().name()));
            compare("grad_x", shaped(grads.get("x"), lead));
            List<String> trainable = new ArrayList<>();
            for (SDVariable v : train.params.trainable()) trainable.add(v.name());
            List<String> want = new ArrayList<>(List.of(module + ".lora_A.weight", module + ".lora_B.weight"));
            if (dora) want.add(module + ".lora_magnitude_vector");
            report.check(c + ".trainable set", trainable.equals(want), "trainable " + trainable + ", base weight "
                    + train.sd.getVariable(module + ".weight").getVariableType());

            // Merge, unmerge, and the merged layer as a plain Linear.
            compare("delta_weight", eval.layer().deltaWeight());
            LoraAdapters.Merge merged = eval.adapters.merge(true);
            INDArray mergedWeight = merged.weights().get(module + ".weight");
            compare("merged_weight", mergedWeight);
            if (dora) compare("weight_norm", merged.layers().get(module).weightNorm());
            if (bias) compare("merged_bias", eval.sd.getVariable(module + ".bias").getArr());
            if (has(c + ".y_merged")) {
                SameDiff sd = Graphs.create();
                Scope root = Scope.root(sd, ParamSource.overlay(base, ParamSource.of(merged.weights())), LoadOptions.inference());
                SDVariable y = Linear.load(root.pp(module), in, out, bias).forwardRows(sd.placeHolder("x", DataType.FLOAT, -1, in));
                compare("y_merged", shaped(sd.output(Map.of("x", x), y.name()).get(y.name()), lead));
            }
            compare("unmerged_weight", eval.adapters.unmerge(merged).get(module + ".weight"));

            roundTrip(dir, eval, x, rows);
        }

        /** {@code a [..., d]} as rows {@code [N, d]} (C order, so row n is flat position n of the leading dimensions). */
        static INDArray rows(INDArray a) {
            return a.rank() == 2 ? a : a.dup('c').reshape('c', -1, a.size(a.rank() - 1));
        }

        /** Rows {@code [N, d]} back to {@code [lead..., d]}. */
        static INDArray shaped(INDArray y, long[] lead) {
            long[] shape = java.util.Arrays.copyOf(lead, lead.length + 1);
            shape[lead.length] = y.size(1);
            return lead.length == 1 ? y : y.dup('c').reshape('c', shape);
        }

        /** Writes the adapter as bloom4j saves it and compares with PEFT's folder, then reloads it. */
        void roundTrip(Path peftDir, Graph eval, INDArray x, long rows) throws Exception {
            Path tmp = Files.createTempDirectory("bloom4j-" + c + "-adapter");
            try {
                Path ours = tmp.resolve("adapter");
                eval.adapters.save(ours);
                for (String file : List.of(PeftAdapter.CONFIG_FILE, PeftAdapter.WEIGHTS_FILE)) {
                    long at = Files.mismatch(ours.resolve(file), peftDir.resolve(file));
                    report.check(c + ".round trip " + file, at == -1, at == -1 ? "byte-identical to PEFT's" : "differs from byte " + at);
                }
                Graph reloaded = new Graph(PeftAdapter.read(ours), false);
                report.compare(c + ".round trip y_eval", reloaded.output(Map.of("x", x)), eval.output(Map.of("x", x)),
                        bloom4j.tensor.parity.Tolerance.EXACT);
            } finally {
                AtomicFiles.deleteTree(tmp);
            }
        }

        /** The base Linear with the adapter, in FLOAT, rows {@code x [N, in]} to {@code y [N, out]}. */
        final class Graph {
            final SameDiff sd = Graphs.create();
            final LoraAdapters adapters;
            final Params params;
            final SDVariable x, y;

            Graph(PeftAdapter adapter, boolean training) {
                adapters = LoraAdapters.load(adapter.config()).training(training);
                Scope root = Scope.root(sd, adapter.over(base, ""), LoadOptions.inference().adapters(adapters, true));
                params = root.params();
                x = sd.placeHolder("x", DataType.FLOAT, -1, in);
                y = Linear.load(root.pp(module), in, out, bias).forwardRows(x);
                adapters.requireMatched();
                params.requireComplete(k -> false);
            }

            bloom4j.nn.lora.LoraLinear layer() { return adapters.layers().get(module); }

            INDArray output(Map<String, INDArray> feed) { return sd.output(feed, y.name()).get(y.name()); }

            /** y, loss = sum(y·g) and the gradients of every trainable tensor and of x. */
            Map<String, INDArray> gradients(Map<String, INDArray> feed, INDArray g) {
                SDVariable loss = y.mul(sd.constant("g", g)).sum();
                sd.setLossVariables(loss.name());
                List<String> wrt = new ArrayList<>();
                for (SDVariable v : sd.variables()) if (v.getVariableType() == VariableType.VARIABLE) wrt.add(v.name());
                wrt.add("x");
                PrintStream stdout = System.out;
                Map<String, INDArray> out = new HashMap<>();
                try {
                    System.setOut(new PrintStream(OutputStream.nullOutputStream()));   // M2.1 prints every differentiated op
                    sd.createGradFunction("x");
                    var og = sd.calculateGradientsAndOutputs(feed, List.of(y.name(), loss.name()), wrt);
                    out.putAll(og.getGradients());
                    out.put("y", og.getOutputs().get(y.name()));
                    out.put("loss", og.getOutputs().get(loss.name()));
                } finally {
                    System.setOut(stdout);
                }
                return out;
            }
        }
    }
}
