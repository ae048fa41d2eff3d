package bloom4j.train.cli;

import bloom4j.train.data.PrepareCorpus;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code bloom4j prepare}: a corpus folder to SongBloom's training JSONL, prompts and a report. */
@Command(name = "prepare", mixinStandardHelpOptions = true,
        description = {"Prepare a Japanese singing corpus for SongBloom fine-tuning: train.jsonl, 10 s prompts and a report.",
                "jacappella: <root>/<subset>/<song>/ with part WAVs and <song>.musicxml|.mxl; the lyric is the lead part's, the "
                        + "structure tags come from the lead's vocal activity.",
                "plain: <name>.wav|flac|mp3 with <name>.txt beside it (a tagged lyric, or one sentence per line).",
                "A rerun skips finished songs. Exit code 1 when any song was rejected (the reasons are in prepare-report.json)."})
final class PrepareCommand implements Callable<Integer> {
    @Option(names = "--format", required = true, description = "jacappella or plain") String format;
    @Option(names = "--root", required = true, paramLabel = "DIR", description = "the corpus folder") Path root;
    @Option(names = "--out", required = true, paramLabel = "DIR", description = "where train.jsonl, prompts/ and the report go") Path out;
    @Option(names = "--audio-type", defaultValue = "mixture", description = "jacappella target: mixture (default) or lead_vocal")
    String audioType;
    @Option(names = "--score", defaultValue = "plain", description = "jacappella score variant: plain (default), svs or romaji") String score;
    @Option(names = "--prompt-mode", defaultValue = "vocal", description = "prompt window: vocal (from the first vocal onset, "
            + "default) or start") String promptMode;
    @Option(names = "--tag-seconds", defaultValue = "1", description = "seconds per [intro]/[inst]/[outro] tag (1 for the 150 s "
            + "models, 5 for the 240 s one)") double tagSeconds;
    @Option(names = "--overwrite", description = "redo finished songs and replace a folder prepared with other options") boolean overwrite;

    @Override public Integer call() throws Exception {
        PrepareCorpus.Format f = switch (format.toLowerCase(Locale.ROOT)) {
            case "jacappella" -> PrepareCorpus.Format.JACAPPELLA;
            case "plain" -> PrepareCorpus.Format.PLAIN;
            default -> throw new IllegalArgumentException("--format must be jacappella or plain, got " + format);
        };
        PrepareCorpus.Result r = PrepareCorpus.run(new PrepareCorpus.Options(f, root, out, audioType, score, promptMode, tagSeconds,
                overwrite), true, System.out);
        return r.rejected() > 0 ? 1 : 0;
    }
}
