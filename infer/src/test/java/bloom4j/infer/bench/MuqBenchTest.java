package bloom4j.infer.bench;

import bloom4j.models.muq.MuqConfig;
import bloom4j.models.muq.MuqModel;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The benchmark's model, not its speed: the random weights carry every key at the right shape, and the counts match the spec. */
class MuqBenchTest {
    static final MuqConfig TINY = new MuqConfig(24000, 2048, 240, 128, 6.768444971712967, 18.417922652295623, 8, 64, 2, 4, 128, 7, 1e-5, 10000);

    @Test void parameterCountOfMuqLargeIsTheSpecs() {
        assertEquals(316_343_296L, MuqBench.parameters(MuqConfig.large()));   // MuQ-large: tencent-ailab/MuQ@d4a6658 config
    }

    @Test void randomWeightsLoadAndRun() throws Exception {
        Map<String, INDArray> w = MuqBench.randomWeights(TINY, 1);
        long params = w.entrySet().stream().filter(e -> !e.getKey().contains("running_")).mapToLong(e -> e.getValue().length()).sum();
        assertEquals(MuqBench.parameters(TINY), params);
        MuqModel m = MuqBench.randomModel(TINY, 1);
        assertTrue(m.unusedKeys().isEmpty());
        MuqBench.Run r = MuqBench.run(m, 0.5, 1, 2);
        assertEquals(13, r.tokens());
        assertEquals(1, r.seconds().size());
    }
}
