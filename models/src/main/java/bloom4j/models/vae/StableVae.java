package bloom4j.models.vae;

import bloom4j.models.GaussianNoise;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * SongBloom's {@code StableVAE} front end ({@code SongBloom/models/vae_frontend/__init__.py} L46-105 at ef78022) around an
 * {@link OobleckVae}: how prompts are encoded and generated latents decoded.
 *
 * <ul>
 *   <li>encode: waveforms shorter than 2048 samples give an empty latent {@code [B, L, 0]} (upstream quirk, kept); {@code [B, N]}
 *       becomes {@code [B, 1, N]}; a mono input is repeated to the VAE's input channels; then encoder and sampled bottleneck;</li>
 *   <li>decode: {@code decode_audio} chunked with chunk 128 and overlap 32 latents (upstream's defaults, used by SongBloom).</li>
 * </ul>
 * The upstream resampler ({@code rsp48k}) is the identity for SongBloom (sr = VAE rate = 48 kHz); resample prompts beforehand
 * with {@link bloom4j.tensor.audio.Resampler}.
 */
public final class StableVae {
    public static final int MIN_SAMPLES = 2048;
    public static final int CHUNK_SIZE = 128;
    public static final int OVERLAP = 32;

    private final OobleckVae vae;

    public StableVae(OobleckVae vae) { this.vae = vae; }

    public OobleckVae vae() { return vae; }

    /** Prompt waveform {@code [B, N]} or {@code [B, 1|io, N]} to latents {@code [B, L, N/ratio]} (sampled with {@code noise}). */
    public INDArray encode(INDArray wav, GaussianNoise noise) {
        INDArray x = wav.castTo(DataType.FLOAT);
        if (x.shape()[x.rank() - 1] < MIN_SAMPLES) {
            return Nd4j.zeros(DataType.FLOAT, x.size(0), vae.config().latentDim(), 0);
        }
        return vae.encode(toVaeChannels(x, vae.config().ioChannels()), noise).latent();
    }

    /** {@code [B, N]} or {@code [B, 1|io, N]} to {@code [B, io, N]}: a mono input is repeated to the VAE's channels. */
    public static INDArray toVaeChannels(INDArray wav, int io) {
        INDArray x = wav.castTo(DataType.FLOAT);
        if (x.rank() == 2) x = x.reshape(x.size(0), 1, x.size(1));
        if (x.size(1) == 1 && io != 1) {                                                           // wav.repeat(1, io, 1)
            INDArray[] copies = new INDArray[io];
            java.util.Arrays.fill(copies, x);
            x = Nd4j.concat(1, copies);
        }
        return x;
    }

    /** Latents {@code [B, L, T]} to audio {@code [B, io, T·ratio]}, chunked as upstream. */
    public INDArray decode(INDArray latent) { return vae.decodeChunked(latent, CHUNK_SIZE, OVERLAP); }
}
