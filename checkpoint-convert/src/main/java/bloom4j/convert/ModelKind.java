package bloom4j.convert;

import java.util.Collection;
import java.util.Locale;
import java.util.function.Predicate;

/**
 * The model families bloom4j converts, recognised from the upstream parameter names (the names are kept unchanged on conversion,
 * so a converted folder stays loadable from PyTorch).
 */
public enum ModelKind {
    /** SongBloom release checkpoint: AR sketch LM, DiT, conditioners (keys under {@code model.}), optionally the VAE ({@code vae.}). */
    SONGBLOOM(true, n -> n.startsWith("model.ar_transformer.") || n.equals("model.skeleton_emb.weight")
            || n.startsWith("model.nar_dit.") || n.startsWith("model.condition_provider.conditioners.lyrics."), ConfigHook.SONGBLOOM),
    /**
     * MuQ music encoder (keys under {@code model.}: conv stem, conformer). A bare {@code MuQModel} dict or the MuQ inside MuQ-MuLan
     * is recognised too, so that conversion can say which prefix it expects.
     */
    MUQ(true, n -> n.startsWith("model.conformer.") || n.startsWith("model.conv.conv.")
            || n.matches("(mulan\\.audio\\.model\\.model\\.)?(conformer\\.layers\\.|conv\\.conv\\.|conv\\.linear\\.).*")),
    /** ZipVoice / ZipVoice-Distill flow-matching TTS. */
    ZIPVOICE(true, n -> n.startsWith("fm_decoder.") || n.startsWith("text_encoder.")),
    /** Vocos vocoder. */
    VOCOS(true, n -> n.startsWith("backbone.") || n.startsWith("head.")),
    /** Oobleck autoencoder (stable-audio-tools VAE), bare or inside a Lightning {@code autoencoder.} prefix. */
    VAE(true, n -> (n.startsWith("encoder.layers.") || n.startsWith("decoder.layers.")
            || n.startsWith("autoencoder.encoder.") || n.startsWith("autoencoder.decoder.")) && !n.startsWith("model.")),
    /** A vector-quantizer codebook (vector-quantize-pytorch {@code _codebook.*}). */
    VQ(false, n -> n.startsWith("_codebook.")),
    /** Anything else: tensors are converted and kept under their names, nothing model-specific is checked. */
    GENERIC(false, n -> false);

    private final boolean selectable;
    private final Predicate<String> marker;
    private final ConfigHook hook;

    ModelKind(boolean selectable, Predicate<String> marker) { this(selectable, marker, ConfigHook.NONE); }

    ModelKind(boolean selectable, Predicate<String> marker, ConfigHook hook) {
        this.selectable = selectable;
        this.marker = marker;
        this.hook = hook;
    }

    /** The family's conversion-time check of the upstream config against the weights. */
    ConfigHook configHook() { return hook; }

    /** The lower-case name used on the command line and in config.json. */
    public String id() { return name().toLowerCase(Locale.ROOT); }

    /** Whether {@code --model} accepts it (the others are only detected). */
    public boolean selectable() { return selectable; }

    /** Number of names carrying this kind's marker. */
    public long score(Collection<String> names) { return names.stream().filter(marker).count(); }

    /**
     * The kind whose markers match the most names; {@link #GENERIC} when none match. SongBloom wins over the VAE it embeds
     * (its VAE keys are under {@code vae.}, which the VAE marker does not match).
     */
    public static ModelKind detect(Collection<String> names) {
        ModelKind best = GENERIC;
        long bestScore = 0;
        for (ModelKind k : values()) {
            long s = k.score(names);
            if (s > bestScore) {
                best = k;
                bestScore = s;
            }
        }
        return best;
    }

    public static ModelKind parse(String s) {
        for (ModelKind k : values()) if (k.id().equals(s.toLowerCase(Locale.ROOT))) return k;
        throw new IllegalArgumentException("unknown model kind '" + s + "'");
    }
}
