package bloom4j.models.muq;

import java.util.Collection;
import java.util.List;

/**
 * Which tensors of a MuQ checkpoint inference reads. The released checkpoint ({@code MuQ.state_dict()}, keys under {@code model.};
 * tencent-ailab/MuQ@d4a6658 {@code src/muq/muq/muq.py}) also carries modules that the forward pass never calls; they are skipped, listed, and never an error:
 * <ul>
 *   <li>{@code model.conformer.pos_conv_embed.*}: HF builds the convolutional position embedding but {@code Wav2Vec2ConformerEncoder.
 *       forward} with rotary positions never calls it (saved as {@code conv.weight_g/weight_v} or {@code conv.parametrizations.weight.
 *       original0/1}, depending on the torch version);</li>
 *   <li>{@code model.linear.*}: the target-logits head of pre-training;</li>
 *   <li>{@code model.cls_token};</li>
 *   <li>{@code model.rvq.*} (the Mel-RVQ targets), {@code model.quantizer_*} (BEST-RQ targets), {@code model.preprocessor_*}
 *       (a MusicFM-style stored front end: bloom4j rebuilds the window and filterbank).</li>
 * </ul>
 */
public final class MuqWeights {
    /** The prefix of every MuQ key in the released checkpoint ({@code MuQ.model}). */
    public static final String PREFIX = "model.";

    private MuqWeights() {}

    /** Whether {@code key} (under {@code prefix}) belongs to a module inference never runs. */
    public static boolean isUnused(String key, String prefix) {
        if (!key.startsWith(prefix)) return false;
        String k = key.substring(prefix.length());
        return k.startsWith("conformer.pos_conv_embed.") || k.startsWith("linear.") || k.equals("cls_token") || k.startsWith("rvq.")
                || k.startsWith("quantizer_") || k.startsWith("preprocessor_");
    }

    /** The unused keys of a checkpoint, in its order. */
    public static List<String> unusedKeys(Collection<String> names, String prefix) {
        return names.stream().filter(n -> isUnused(n, prefix)).toList();
    }
}
