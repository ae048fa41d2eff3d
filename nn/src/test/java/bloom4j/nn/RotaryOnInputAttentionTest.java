package bloom4j.nn;

import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** HF wav2vec2-conformer attention: rotary on the input, q/k projected from it, v from the unrotated input; biases everywhere. */
class RotaryOnInputAttentionTest {
    static final int B = 2, T = 5, H = 2, DH = 4, HID = H * DH;

    static Map<String, INDArray> weights() {
        Map<String, INDArray> m = new LinkedHashMap<>();
        int seed = 40;
        for (String p : new String[] {"linear_q", "linear_k", "linear_v", "linear_out"}) {
            m.put("a." + p + ".weight", Rand.normal(seed++, 0.5, HID, HID));
            m.put("a." + p + ".bias", Rand.normal(seed++, 0.5, HID));
        }
        return m;
    }

    @Test void matchesLoopsAndHasGradients() {
        Map<String, INDArray> m = weights();
        SameDiff sd = SameDiff.create();
        Scope s = Scope.root(sd, ParamSource.of(m), LoadOptions.inference().dtype(DataType.DOUBLE).allTrainable()).pp("a");
        Attention a = Attention.rotaryOnInput(s, AttentionDims.mha(HID, H), true, true, "linear_q", "linear_k", "linear_v", "linear_out");
        SDVariable x = sd.placeHolder("x", DataType.DOUBLE, B, -1, HID);
        RotaryEmbedding rope = RotaryEmbedding.full(DH, 10000);
        RotaryEmbedding.Tables tables = rope.placeholders(sd, "rope", DataType.DOUBLE);
        SDVariable y = a.forward(x.reshape(-1, HID), AttentionContext.of(SeqShape.of(x), tables, null), null);
        INDArray xv = Rand.normal(50, B, T, HID);
        Map<String, INDArray> feed = new HashMap<>(rope.feed(tables, 0, T));
        feed.put("x", xv);

        double[] xs = Reference.of(xv);
        double[] xr = Reference.rope(xs, B, T, H, DH, DH, 10000, 0);
        int n = B * T;
        double[] q = Reference.linear(xr, n, HID, Reference.of(m.get("a.linear_q.weight")), Reference.of(m.get("a.linear_q.bias")), HID);
        double[] k = Reference.linear(xr, n, HID, Reference.of(m.get("a.linear_k.weight")), Reference.of(m.get("a.linear_k.bias")), HID);
        double[] v = Reference.linear(xs, n, HID, Reference.of(m.get("a.linear_v.weight")), Reference.of(m.get("a.linear_v.bias")), HID);
        double[] o = Reference.attention(Reference.swap12(q, B, T, H, DH), Reference.swap12(k, B, T, H, DH),
                Reference.swap12(v, B, T, H, DH), B, H, H, T, T, DH, false);
        double[] want = Reference.linear(Reference.swap12(o, B, H, T, DH), n, HID, Reference.of(m.get("a.linear_out.weight")),
                Reference.of(m.get("a.linear_out.bias")), HID);
        assertArrayEquals(want, Reference.of(sd.output(feed, y.name()).get(y.name())), 1e-6);   // tables are fp32

        GradientCheck.of(sd, y).feed(feed).inputs("x").check();
    }

    @Test void refusesGroupedQueries() {
        SameDiff sd = SameDiff.create();
        Scope s = Scope.root(sd, ParamSource.of(weights()), LoadOptions.inference().dtype(DataType.DOUBLE)).pp("a");
        assertThrows(IllegalArgumentException.class, () -> Attention.rotaryOnInput(s, new AttentionDims(HID, H, 1, DH), true, true,
                "linear_q", "linear_k", "linear_v", "linear_out"));
    }
}
