package bloom4j.train;

import bloom4j.nn.lora.LoraConfig;
import bloom4j.nn.lora.Targets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Adapter configurations that carry what is known from the field, by name. Module names are the release checkpoints' module paths.
 */
public final class LoraPresets {
    private static final Logger log = LoggerFactory.getLogger(LoraPresets.class);

    private LoraPresets() {}

    /** A named configuration and why. */
    public record Preset(String name, String description, LoraConfig config) {}

    /**
     * SongBloom: LoRA rank 16, alpha 32 on {@code q_proj} and {@code v_proj}, which only the AR transformer has
     * ({@code model.ar_transformer.layers.N.self_attn.{q,v}_proj}; the DiT's attention is {@code to_qkv}/{@code to_out}). Dropout is
     * PEFT's default 0.
     */
    public static final Preset SONGBLOOM_AR = new Preset("songbloom-ar",
            "SongBloom AR transformer: LoRA r=16 alpha=32 on q_proj, v_proj",
            LoraConfig.lora(16, 32, Targets.names("q_proj", "v_proj")));

    /**
     * ZipVoice: DoRA rank 32, alpha 64, dropout 0.05 on the FM decoder's attention projections: {@code self_attn_weights.in_proj} and
     * {@code self_attn1/2.in_proj, out_proj} of every Zipformer layer of {@code fm_decoder} (k2-fsa/ZipVoice@2f7326f {@code zipvoice/models/modules/zipformer.py};
     * {@code fm_decoder.in_proj}/{@code out_proj}, the decoder's own input and output projections, are not attention and not targeted).
     */
    public static final Preset ZIPVOICE_FM_DECODER = new Preset("zipvoice-fm-decoder",
            "ZipVoice FM decoder attention: DoRA r=32 alpha=64 dropout=0.05 on in_proj/out_proj",
            LoraConfig.dora(32, 64, Targets.regex(
                    "fm_decoder\\.encoders\\.\\d+\\.(encoder\\.)?layers\\.\\d+\\.(self_attn_weights\\.in_proj|self_attn[12]\\.(in|out)_proj)"))
                    .withDropout(0.05));

    public static List<Preset> all() { return List.of(SONGBLOOM_AR, ZIPVOICE_FM_DECODER); }

    public static Optional<Preset> byName(String name) {
        return all().stream().filter(p -> p.name().equals(name.toLowerCase(Locale.ROOT))).findFirst();
    }

    /**
     * Warnings for SongBloom adapters: any adapted module of the DiT ({@code nar_dit}, {@code to_qkv}, {@code to_out}) is allowed but
     * named, since adapting the DiT is known to destroy vocal generation. Each warning is also logged.
     */
    public static List<String> songBloomWarnings(Collection<String> adaptedModules) {
        List<String> dit = new ArrayList<>();
        for (String m : adaptedModules) {
            if (m.contains("nar_dit") || m.endsWith("to_qkv") || m.endsWith("to_out")) dit.add(m);
        }
        if (dit.isEmpty()) return List.of();
        String w = "adapters on SongBloom's DiT " + (dit.size() > 4 ? dit.subList(0, 4) + " and " + (dit.size() - 4) + " more" : dit)
                + ": fine-tuning the DiT is known to destroy vocal generation; the " + SONGBLOOM_AR.name()
                + " preset adapts the AR transformer only";
        log.warn(w);
        return List.of(w);
    }
}
