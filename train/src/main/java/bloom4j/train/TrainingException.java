package bloom4j.train;

/** A training run cannot go on: parameters without gradient, a non-finite loss or gradient norm. */
public class TrainingException extends RuntimeException {
    public TrainingException(String message) { super(message); }
}
