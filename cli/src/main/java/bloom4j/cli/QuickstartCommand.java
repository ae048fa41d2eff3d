package bloom4j.cli;

import bloom4j.infer.Quickstart;
import bloom4j.train.demo.FineTuneDemo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code bloom4j quickstart}: the embedded end-to-end demo (no download, no arguments needed): the inference stages of
 * {@link Quickstart}, then the fine-tuning stages of {@link FineTuneDemo}. It lives here because it spans both halves.
 */
@Command(name = "quickstart", mixinStandardHelpOptions = true,
        description = {"Runs bloom4j end to end on bundled tiny models, from a PyTorch checkpoint to a fine-tuned song.",
                "Inspect, convert, parity against PyTorch, generate a song; then fine-tune: sketch codebook, cache, LoRA training",
                "with validation, and generate with the result. Nothing is downloaded."})
final class QuickstartCommand implements Callable<Integer> {

    @Option(names = "--out", defaultValue = "bloom4j-quickstart", paramLabel = "DIR",
            description = "output folder (default ./bloom4j-quickstart; a previous quickstart output is replaced)")
    Path out;

    @Override public Integer call() throws Exception {
        return Quickstart.run(out, System.out, stages()) ? 0 : 1;
    }

    /** The fine-tuning stages as quickstart stages; the last one adds the fine-tuning lines to the summary. */
    static List<Quickstart.Stage> stages() {
        List<FineTuneDemo.Stage> demo = FineTuneDemo.stages();
        List<Quickstart.Stage> out = new java.util.ArrayList<>();
        for (int i = 0; i < demo.size(); i++) {
            FineTuneDemo.Stage s = demo.get(i);
            boolean last = i == demo.size() - 1;
            out.add(new Quickstart.Stage() {
                @Override public String title() { return s.title(); }

                @Override public boolean run(Path dir, Path model, PrintStream log) throws Exception { return s.action().run(dir, model, log); }

                @Override public List<String> next(Path dir) { return last ? FineTuneDemo.next(dir) : List.of(); }
            });
        }
        out.add(new bloom4j.infer.tts.TtsDemo());
        return out;
    }
}
