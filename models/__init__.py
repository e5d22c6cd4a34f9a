"""makemore's model zoo on tensorgrad, one file per model family:

    data.py          word lists, the vocabulary, the lectures' context windows and makemore.py's padded words
    bigram.py        Bigram: a table of next-character logits              (makemore.py, part 1)
    mlp.py           MLP: Bengio et al. 2003, <BLANK> token, rolled context (makemore.py)
    rnn.py           RNN and GRU cells unrolled over time                   (makemore.py)
    bow.py           BoW: a causal bag of words                             (makemore.py)
    transformer.py   Transformer: GPT-2-style causal self-attention         (makemore.py)
    bn_mlp.py        MakemoreMLP: the BatchNorm MLP of the Backprop Ninja   (lecture part 4)
    deep_bn.py       DeepBatchNormMLP: five Linear/BatchNorm/Tanh layers    (lecture part 3)
    wavenet.py       WaveNet: FlattenConsecutive(2) three times             (lecture part 5)
    config.py        one config for every type, each type's defaults, building the model and optimizer
    train.py         the data of both recipes, the training loop, evaluation, sampling
    checkpoint.py    out/makemore.npz: the Checkpointer (lock, atomic saves, earlier runs), loading with checks
    cli.py           the command tensorgrad-makemore
"""
