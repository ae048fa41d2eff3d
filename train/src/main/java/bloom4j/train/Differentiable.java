package bloom4j.train;

import bloom4j.nn.Params;
import bloom4j.nn.TrainableReport;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a {@link Trainer} trains: named parameter arrays (live: updating them updates the model) and, for one feed, the loss, some
 * scalar outputs and the gradient of the loss for each parameter. {@link #of} is one SameDiff graph; a model too large to keep every
 * activation of the backward pass implements it over several graphs (per-layer recomputation, {@code SongBloomObjective}).
 */
public interface Differentiable {

    /** The trainable arrays by name. */
    Map<String, INDArray> parameters();

    /** Loss, the {@code reported} scalar outputs and the parameters' gradients for one feed (dropout masks included). */
    Evaluation evaluate(Map<String, INDArray> feed, List<String> reported);

    /** What {@link #evaluate} gives; a gradient missing from the map means the parameter is not connected to the loss. */
    record Evaluation(double loss, Map<String, Double> reported, Map<String, INDArray> gradients) { }

    /**
     * Whether the gradient arrays {@link #evaluate} returns belong to the caller, who may close them once used (freeing their native
     * memory at once instead of when the garbage collector gets to them). False for arrays a SameDiff session may still hold.
     */
    default boolean ownsResults() { return false; }

    /** The trainable set as a table (names, shapes, counts, PEFT's summary line), printed when training starts. */
    String trainableTable();

    /** Where the parameters came from, for messages. */
    String description();

    /** One graph with a scalar {@code loss}: its trainable variables, gradients by {@code calculateGradientsAndOutputs}. */
    static Differentiable of(Params params, SDVariable loss) {
        SameDiff sd = params.sd();
        Map<String, INDArray> arrays = new LinkedHashMap<>();
        for (SDVariable v : params.trainable()) arrays.put(v.name(), v.getArr());
        sd.setLossVariables(loss.name());
        quietly(sd::createGradFunction);
        List<String> names = new ArrayList<>(arrays.keySet());
        Map<String, INDArray> view = Collections.unmodifiableMap(arrays);
        return new Differentiable() {
            @Override public Map<String, INDArray> parameters() { return view; }

            @Override public Evaluation evaluate(Map<String, INDArray> feed, List<String> reported) {
                List<String> outputs = new ArrayList<>();
                outputs.add(loss.name());
                outputs.addAll(reported);
                OutAndGrad og = sd.calculateGradientsAndOutputs(feed, outputs, names);
                Map<String, Double> r = new LinkedHashMap<>();
                for (String n : reported) r.put(n, og.getOutputs().get(n).getDouble(0));
                return new Evaluation(og.getOutputs().get(loss.name()).getDouble(0), r, og.getGradients());
            }

            @Override public String trainableTable() { return TrainableReport.of(params).table(); }

            @Override public String description() { return params.source().description(); }
        };
    }

    /** Runs {@code r} with stdout silenced: SameDiff M2.1 prints every op it differentiates. */
    static void quietly(Runnable r) {
        PrintStream out = System.out;
        try {
            System.setOut(new PrintStream(OutputStream.nullOutputStream()));
            r.run();
        } finally {
            System.setOut(out);
        }
    }
}
