"""Build a tiny random-weight Llama (2 layers, hidden 256, byte-level BPE of 4096 tokens) for vLLM tests.

The model is random: its text is gibberish, but it is deterministic, which is all the engine tests and
the throughput bench need. The end-of-sequence row of ``lm_head`` is zeroed so greedy decoding never
ends early (its logit is 0 against roughly Gaussian logits of the other 4095 tokens).

    .venv/bin/python bench/make_tiny_llama.py OUT_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast


def corpus() -> list[str]:
    root = Path(__file__).resolve().parents[1]
    texts = [p.read_text(errors="ignore") for p in sorted(root.glob("**/*.py")) if ".venv" not in p.parts]
    texts += [p.read_text(errors="ignore") for p in sorted(root.glob("*.md"))]
    return texts + ["Once upon a time in Paris, the Eiffel Tower was designed by Gustave Eiffel. 猫 犬"] * 10


def main(out: Path) -> None:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=4096,
        special_tokens=["<s>", "</s>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(corpus(), trainer)
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 0)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>")
    fast.save_pretrained(out)

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=tok.get_vocab_size(),
        hidden_size=256,
        intermediate_size=512,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=64,
        max_position_embeddings=4096,
        bos_token_id=0,
        eos_token_id=1,
        tie_word_embeddings=False,
        torch_dtype="bfloat16",
    )
    model = LlamaForCausalLM(config)
    with torch.no_grad():
        model.lm_head.weight.mul_(10.0)  # logits of std ~3, so greedy margins dwarf bf16 noise
        model.lm_head.weight[1].zero_()
    model.to(torch.bfloat16).save_pretrained(out, safe_serialization=True)
    print(out, sum(p.numel() for p in model.parameters()), "parameters")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
