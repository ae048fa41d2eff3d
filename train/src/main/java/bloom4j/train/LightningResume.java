package bloom4j.train;

import bloom4j.tensor.io.CheckpointException;
import bloom4j.tensor.io.LightningCheckpoint;
import bloom4j.tensor.io.TensorSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * The resume state of a PyTorch Lightning fine-tuning checkpoint with one AdamW optimizer and one {@code LambdaLR} (the fork's
 * {@code trainer.fit(ckpt_path=...)} files, ayutaz/SongBloom@8f7d34f {@code train_japanese.py}): the trained tensors of
 * {@code state_dict}, the AdamW moments and step of each ({@code optimizer_states[0].state[i]}, i = position in the optimizer's
 * parameter list), the param group's rate and settings, the scheduler position, {@code epoch} and {@code global_step}.
 *
 * <p>Optimizer ids are mapped to names through {@code hyper_parameters.param_order} when the checkpoint records it, else through the
 * order of {@code state_dict}, which is right when the state dict holds exactly the optimized tensors (the count is checked).
 * Names are normalised by {@code names} (e.g. PEFT's in-memory {@code .lora_A.default.weight} to the graph's keys).
 *
 * @param tensors  trained tensors by normalised name, in optimizer order
 * @param expAvg   AdamW first moments by name; {@code expAvgSq} second moments; {@code steps} AdamW's per-tensor step
 * @param lr       the param group's current rate (what the next step uses); {@code initialLr} its base rate
 */
public record LightningResume(long epoch, long globalStep, Map<String, INDArray> tensors, Map<String, INDArray> expAvg,
                              Map<String, INDArray> expAvgSq, Map<String, Long> steps, double lr, double initialLr, double weightDecay,
                              double beta1, double beta2, double eps, long schedulerLastEpoch) {

    /** Reads {@code file}; {@code names} maps checkpoint names (state dict keys or param_order entries) to the caller's names. */
    public static LightningResume read(Path file, UnaryOperator<String> names) throws IOException {
        try (LightningCheckpoint ck = LightningCheckpoint.open(file)) {
            Map<?, ?> top = ck.entries();
            TensorSource sd = ck.stateDict();
            Map<String, String> byName = new LinkedHashMap<>();
            for (String k : sd.names()) byName.put(names.apply(k), k);
            List<String> order = new ArrayList<>();
            Object hp = ck.plainHyperParameters();
            if (hp instanceof Map<?, ?> h && h.get("param_order") instanceof List<?> l) {
                for (Object o : l) order.add(names.apply(String.valueOf(o)));
            } else {
                order.addAll(byName.keySet());
            }
            Map<?, ?> opt = first(top, "optimizer_states", file);
            Map<?, ?> state = map(opt.get("state"), "optimizer_states[0].state", file);
            List<?> groups = list(opt.get("param_groups"), "optimizer_states[0].param_groups", file);
            if (groups.size() != 1) throw new CheckpointException(file, "expected one optimizer param group, found " + groups.size());
            Map<?, ?> g = map(groups.get(0), "param_groups[0]", file);
            List<?> ids = list(g.get("params"), "param_groups[0].params", file);
            if (ids.size() != order.size()) {
                throw new CheckpointException(file, "the optimizer holds " + ids.size() + " parameters but the checkpoint names " + order.size()
                        + (hp instanceof Map<?, ?> h2 && h2.containsKey("param_order") ? " in hyper_parameters.param_order"
                        : " in its state_dict (without hyper_parameters.param_order the state dict must hold exactly the optimized tensors)"));
            }
            Map<String, INDArray> tensors = new LinkedHashMap<>(), m = new LinkedHashMap<>(), v = new LinkedHashMap<>();
            Map<String, Long> steps = new LinkedHashMap<>();
            for (int i = 0; i < ids.size(); i++) {
                String name = order.get(i);
                String key = byName.get(name);
                if (key == null) throw new CheckpointException(file, "optimized tensor '" + name + "' is not in the state_dict");
                tensors.put(name, sd.load(key, DataType.FLOAT));
                String id = String.valueOf(((Number) ids.get(i)).longValue());
                if (!containsKey(state, id)) continue;   // never stepped: no state
                TensorSource st = ck.checkpoint().tensors("optimizer_states", "0", "state", id);
                m.put(name, st.load("exp_avg", DataType.FLOAT));
                v.put(name, st.load("exp_avg_sq", DataType.FLOAT));
                steps.put(name, Math.round(st.load("step", DataType.DOUBLE).getDouble(0)));
            }
            List<?> betas = list(g.get("betas"), "param_groups[0].betas", file);
            Map<?, ?> sched = first(top, "lr_schedulers", file);
            return new LightningResume(number(top.get("epoch"), "epoch", file).longValue(), number(top.get("global_step"), "global_step", file).longValue(),
                    tensors, m, v, steps, number(g.get("lr"), "lr", file).doubleValue(),
                    g.containsKey("initial_lr") ? number(g.get("initial_lr"), "initial_lr", file).doubleValue() : Double.NaN,
                    number(g.get("weight_decay"), "weight_decay", file).doubleValue(), number(betas.get(0), "betas[0]", file).doubleValue(),
                    number(betas.get(1), "betas[1]", file).doubleValue(), number(g.get("eps"), "eps", file).doubleValue(),
                    number(sched.get("last_epoch"), "lr_schedulers[0].last_epoch", file).longValue());
        }
    }

    /** AdamW's state for {@link AdamW#load}: the moments under {@code <name>.exp_avg} / {@code .exp_avg_sq}. */
    public Map<String, INDArray> adamState() {
        Map<String, INDArray> s = new LinkedHashMap<>();
        expAvg.forEach((k, a) -> s.put(k + ".exp_avg", a));
        expAvgSq.forEach((k, a) -> s.put(k + ".exp_avg_sq", a));
        return s;
    }

    /** The AdamW step shared by all tensors (torch keeps one per tensor; a fine-tuning run steps them together). */
    public int adamSteps(Path file) throws CheckpointException {
        long first = steps.values().stream().findFirst().orElse(0L);
        if (steps.values().stream().anyMatch(x -> x != first)) {
            throw new CheckpointException(file, "the AdamW steps differ between tensors " + steps + "; bloom4j resumes runs whose tensors"
                    + " were all optimized together");
        }
        return Math.toIntExact(first);
    }

    private static boolean containsKey(Map<?, ?> m, String key) {
        for (Object k : m.keySet()) if (String.valueOf(k instanceof Number n ? n.longValue() : k).equals(key)) return true;
        return false;
    }

    private static Map<?, ?> first(Map<?, ?> top, String key, Path file) throws CheckpointException {
        List<?> l = list(top.get(key), key, file);
        if (l.isEmpty()) throw new CheckpointException(file, key + " is empty");
        return map(l.get(0), key + "[0]", file);
    }

    private static Map<?, ?> map(Object o, String what, Path file) throws CheckpointException {
        if (o instanceof Map<?, ?> m) return m;
        throw new CheckpointException(file, what + " is missing or not a dict");
    }

    private static List<?> list(Object o, String what, Path file) throws CheckpointException {
        if (o instanceof List<?> l) return l;
        if (o instanceof bloom4j.tensor.pickle.PyTuple t) return t.items();
        throw new CheckpointException(file, what + " is missing or not a list");
    }

    private static Number number(Object o, String what, Path file) throws CheckpointException {
        if (o instanceof Number n) return n;
        throw new CheckpointException(file, what + " is missing or not a number (" + (o == null ? "None" : o.getClass().getSimpleName()) + ")");
    }
}
