"""Golden texts of traced graphs of the corpus, part 3: helpers, statics, styles, unpacking, walrus and the rest (with ``test_corpus_golden.py``
and ``test_corpus_golden_dataflow.py``, a third of the corpus's workflows).

Each key is a case id of ``corpus.all_cases()`` (``module.workflow``); its graph is traced with that
case's arguments. The printed graph is the IR's golden form: when a change alters one, read the
new text, check it means the same program, and update it here deliberately.
"""

from __future__ import annotations

import pytest

from .corpus import all_cases

CASES = {c.id: c for c in reversed(all_cases())}  # a workflow's first case wins

GOLDEN = {
    "generator_args.extend_from_generator": """\
graph extend_from_generator(questions):
  %questions = input  # generator_args.py:16
  %passages = const(['Generators yield values lazily.', 'Lists hold values in order.', 'Sets hold values once.'])  # generator_args.py:17
  %ingest = ingest(%passages, collection='kb')  # generator_args.py:17
  %passages_1 = python() { passages = [] } after %ingest  # generator_args.py:18
  %passages_2 = map(%questions, concurrency=1) after %passages_1 {  # generator_args.py:19
      %q = input
      %hits = search(%q, collection='kb', top_k=2)  # generator_args.py:20
      %item = python(%hits) { item = (h.text for h in hits) }  # generator_args.py:21
      return %item
  }
  %passages_3 = python(%passages_1, %passages_2) { for v in passages_2: … }  # generator_args.py:21
  return %passages_3""",
    "generator_args.generator_passed_to_a_primitive": """\
graph generator_passed_to_a_primitive(question, docs):
  %question = input  # generator_args.py:26
  %docs = input  # generator_args.py:26
  %passages = python(%docs) { passages = (d.strip() for d in docs) }  # generator_args.py:27
  %best = rerank(%question, %passages, top_k=2)  # generator_args.py:27
  %result = python(%best) { result = [h.text for h in best] }  # generator_args.py:28
  return %result""",
    "helpers.module_helper": """\
graph module_helper(question, docs):
  %question = input  # helpers.py:51
  %docs = input  # helpers.py:51
  %text = python(%docs) { text = docs[0] }  # helpers.py:52
  %reply = llm(f"Summarize in 3 words: {%text}\\nSummary:", max_tokens=3)  # helpers.py:20
  %result = python(%reply) { result = reply.strip() }  # helpers.py:21
  %result_1 = llm(f"{%result}\\nQ: {%question}\\nA:", max_tokens=4)  # helpers.py:53
  return %result_1""",
    "helpers.helper_per_item": """\
graph helper_per_item(docs):
  %docs = input  # helpers.py:63
  %result = map(%docs, concurrency=1) {  # helpers.py:64
      %d = input
      %reply = llm(f"Summarize in 2 words: {%d}\\nSummary:", max_tokens=2)  # helpers.py:20
      %result = python(%reply) { result = reply.strip() }  # helpers.py:21
      return %result
  }
  return %result""",
    "helpers.helper_with_early_return": """\
graph helper_with_early_return(question):
  %question = input  # helpers.py:73
  %label = llm(f"Label (code/prose): {%question}\\n", max_tokens=1)  # helpers.py:44
  %test = python(%label) { test = "a" in label }  # helpers.py:45
  %result = cond(%test, %question) {  # helpers.py:45
      %question = input
      %result = const('code')  # helpers.py:45
      return %result
  } else {
      %question = input
      %value = llm(f"Second opinion: {%question}", max_tokens=1)  # helpers.py:47
      %result = python(%value) { result = value.strip() or "prose" }  # helpers.py:47
      return %result
  }
  %result_1 = llm(f"[{%result}] {%question}", max_tokens=3)  # helpers.py:75
  return %result_1""",
    "helpers.helper_inside_a_branch": """\
graph helper_inside_a_branch(question, detailed):
  %question = input  # helpers.py:130
  %detailed = input  # helpers.py:130
  %test = python(%detailed) { test = detailed == "yes" }  # helpers.py:131
  %reply = cond(%test, %question) {  # helpers.py:131
      %question = input
      %reply = llm(f"Summarize in 6 words: {%question}\\nSummary:", max_tokens=6)  # helpers.py:20
      %result = python(%reply) { result = reply.strip() }  # helpers.py:21
      return %result
  } else {
      %question = input
      %reply = llm(f"Summarize in 3 words: {%question}\\nSummary:", max_tokens=3)  # helpers.py:20
      %result = python(%reply) { result = reply.strip() }  # helpers.py:21
      return %result
  }
  return %reply""",
    "multiline.values_over_lines": """\
graph values_over_lines(question, docs):
  %question = input  # multiline.py:51
  %docs = input  # multiline.py:51
  %query = python(%question) { query = (question.strip() … }  # multiline.py:52
  %passages = python(%docs) { passages = ([d for d in docs … } after %query  # multiline.py:52
  %best = rerank(%query, %passages, top_k=2)  # multiline.py:52
  %part = python(%best) { part = len(best) }  # multiline.py:59
  %part_1 = python(%docs) { part = len(docs) } after %part  # multiline.py:59
  %n = python(%part, %part_1) { n = (part + \\ … }  # multiline.py:59
  %label = python(%best) { label = ("first: " … } after %n  # multiline.py:61
  %answer = llm(f"{%label}\\nCount: {%n}\\nSay it again:", max_tokens=6)  # multiline.py:64
  %result = python(%answer, %n) { result = answer, n }  # multiline.py:70
  return %result""",
    "records.rows_appended_in_place": """\
graph rows_appended_in_place(docs):
  %docs = input  # records.py:17
  %rows = python(%docs) { rows = [[d] for d in docs] }  # records.py:18
  %loop = loop(%rows, %rows, carried=('rows',)) for row {  # records.py:19
      %row = input
      %rows = input
      %prompt = python(%row) { prompt = row[0] }  # records.py:20
      %value = llm(f"{%prompt}", max_tokens=2)  # records.py:20
      %python = python(%row, %rows, %value) { row.append(value) }  # records.py:20
      %row_1 = getitem(%python, index=0)  # records.py:20
      %rows_1 = getitem(%python, index=1)  # records.py:20
      %go_on = const(True)  # records.py:19
      return %go_on, %rows_1
  }
  %rows_1 = getitem(%loop, index=0)  # records.py:19
  return %rows_1""",
    "records.records_get_a_summary": """\
graph records_get_a_summary(docs):
  %docs = input  # records.py:25
  %records = python(%docs) { records = [{"text": d, "id": str(i)} for i, d in enumerate(… }  # records.py:26
  %loop = loop(%records, %records, carried=('records',)) for record {  # records.py:27
      %record = input
      %records = input
      %field = python(%record) { field = format(record['text'], '') }  # records.py:28
      %value = llm(f"Summarize: {%field}\\n", max_tokens=3)  # records.py:28
      %python = python(%record, %records, %value) { record["summary"] = value.strip() }  # records.py:28
      %record_1 = getitem(%python, index=0)  # records.py:28
      %records_1 = getitem(%python, index=1)  # records.py:28
      %go_on = const(True)  # records.py:27
      return %go_on, %records_1
  }
  %records_1 = getitem(%loop, index=0)  # records.py:27
  return %records_1""",
    "statics.engine_parameter": """\
graph engine_parameter(question) [static engine='llm']:
  guard engine == 'llm'  # needed as a constant by `engine=` of ayo.llm() at statics.py:37
  %question = input  # statics.py:36
  %result = llm(f"Q: {%question}\\nA:", max_tokens=4, engine='llm')  # statics.py:37
  return %result""",
    "statics.top_k_from_a_dataclass_field": """\
graph top_k_from_a_dataclass_field(question, docs, settings):
  %question = input  # statics.py:41
  %docs = input  # statics.py:41
  %settings = input  # statics.py:41
  %ingest = ingest(%docs, collection='settings')  # statics.py:42
  %top_k = python(%settings) { top_k = settings.top_k } after %ingest  # statics.py:43
  %hits = search(%question, %top_k, collection='settings', top_k=4, top_k_arg=1)  # statics.py:43
  %result = python(%settings, %hits) { result = [f"{settings.label}: {h.text}" for h in hits] }  # statics.py:44
  return %result""",
    "statics.collection_in_a_map_body": """\
graph collection_in_a_map_body(questions, docs) [static collection='mapped']:
  guard collection == 'mapped'  # needed as a constant by `collection=` of ayo.ingest() at statics.py:87
  %questions = input  # statics.py:86
  %docs = input  # statics.py:86
  %ingest = ingest(%docs, collection='mapped')  # statics.py:87
  %found = map(%questions, concurrency=1) after %ingest {  # statics.py:88
      %q = input
      %search = search(%q, collection='mapped', top_k=1)  # statics.py:88
      return %search
  }
  %result = python(%found) { result = [[h.text for h in hits] for hits in found] }  # statics.py:89
  return %result""",
    "styles.chained_comparison": """\
graph chained_comparison(question):
  %question = input  # styles.py:166
  %answer = llm(f"Q: {%question}", max_tokens=4)  # styles.py:167
  %test = python(%answer) { test = 0 < len(answer) <= 100 }  # styles.py:168
  %answer_1 = cond(%test, %answer) {  # styles.py:168
      %answer = input
      %answer_1 = llm(f"Refine: {%answer}", max_tokens=3)  # styles.py:169
      return %answer_1
  } else {
      %answer = input
      return %answer
  }
  return %answer_1""",
    "styles.ranked_by_keys": """\
graph ranked_by_keys(question, docs):
  %question = input  # styles.py:100
  %docs = input  # styles.py:100
  %hits = rerank(%question, %docs, top_k=3)  # styles.py:101
  %ordered = python(%hits) { ordered = sorted(hits, key=lambda h: (-h.score, h.text)) }  # styles.py:102
  %best = python(%hits) { best = max(hits, key=lambda h: h.score) } after %ordered  # styles.py:103
  %field = python(%best) { field = best.text }  # styles.py:104
  %answer = llm(f"Use: {%field}\\nQ: {%question}", max_tokens=3)  # styles.py:104
  %result = python(%ordered, %answer) { result = {"order": [h.text for h in ordered[:2]], "answer":… }  # styles.py:105
  return %result""",
    "styles.votes_counted_with_generators": """\
graph votes_counted_with_generators(docs):
  %docs = input  # styles.py:156
  %votes = map(%docs, concurrency=1) {  # styles.py:157
      %d = input
      %llm = llm(f"Yes or no: {%d}", max_tokens=1)  # styles.py:157
      return %llm
  }
  %result = python(%votes) { result = ({ … }  # styles.py:158
  return %result""",
    "styles.if_without_else_rebinds": """\
graph if_without_else_rebinds(question):
  %question = input  # styles.py:242
  %out = llm(f"Q: {%question}", max_tokens=4)  # styles.py:244
  %test = python(%out) { test = len(out) > 2 }  # styles.py:245
  %out_1 = cond(%test, %out) {  # styles.py:245
      %out_1 = input
      %out = llm(f"Shorter, in 2:", max_tokens=2)  # styles.py:246
      return %out
  } else {
      %out = input
      return %out
  }
  return %out_1""",
    "styles.coroutines_listed_then_gathered": """\
graph coroutines_listed_then_gathered(question, docs):
  %question = input  # styles.py:287
  %docs = input  # styles.py:287
  %result = llm(f"Rephrase: {%question}", max_tokens=2)  # styles.py:76
  %notes = python(%result) { notes = result.strip() }  # styles.py:289
  %answers = map(%docs, %question, concurrency=1) after %notes {  # styles.py:290
      %d = input
      %question = input
      %llm = llm(f"{%question}\\nDoc: {%d}", max_tokens=2)  # styles.py:290
      return %llm
  }
  %result_1 = python(%notes, %answers) { result = [f"{notes}: {a}" for a in answers] }  # styles.py:291
  return %result_1""",
    "unpacking.keyword_only_helper": """\
graph keyword_only_helper(docs):
  %docs = input  # unpacking.py:42
  %value = map(%docs, concurrency=1) {  # unpacking.py:43
      %d = input
      %result = llm(f"Summary in 3 words: {%d}", max_tokens=3)  # unpacking.py:38
      return %result
  }
  %text = python(%docs) { text = docs[0] } after %value  # unpacking.py:43
  %result = llm(f"Summary in 5 words: {%text}", max_tokens=5)  # unpacking.py:38
  %result_1 = python(%value, %result) { result = value + [result] }  # unpacking.py:43
  return %result_1""",
    "unpacking.dataclass_settings": """\
graph dataclass_settings(question, docs, cfg) [static cfg.collection='kb', cfg.max_tokens=4, cfg.stops=['\\n']]:
  guard cfg.collection == 'kb'  # needed as a constant by `collection=` of ayo.ingest() at unpacking.py:81
  guard cfg.max_tokens == 4  # needed as a constant by `max_tokens=` of ayo.llm() at unpacking.py:84
  guard cfg.stops == ['\\n']  # needed as a constant by `stop=` of ayo.llm() at unpacking.py:84
  %question = input  # unpacking.py:80
  %docs = input  # unpacking.py:80
  %cfg = input  # unpacking.py:80
  %ingest = ingest(%docs, collection='kb')  # unpacking.py:81
  %top_k = python(%cfg) { top_k = cfg.top_k } after %ingest  # unpacking.py:82
  %hits = search(%question, %top_k, collection='kb', top_k=4, top_k_arg=1)  # unpacking.py:82
  %context = python(%hits) { context = "\\n".join(h.text for h in hits) }  # unpacking.py:83
  %result = llm(f"{%context}\\nQ: {%question}", max_tokens=4, stop=('\\n',))  # unpacking.py:84
  return %result""",
    "unpacking.typeddict_sampling": """\
graph typeddict_sampling(question, sampling) [static sampling['max_tokens']=3, sampling['stop']='\\n']:
  guard sampling['max_tokens'] == 3  # needed as a constant by `max_tokens=` of ayo.llm() at unpacking.py:95
  guard sampling['stop'] == '\\n'  # needed as a constant by `stop=` of ayo.llm() at unpacking.py:95
  %question = input  # unpacking.py:94
  %sampling = input  # unpacking.py:94
  %result = llm(f"Q: {%question}", max_tokens=3, stop=('\\n',))  # unpacking.py:95
  return %result""",
    "walrus.walrus_in_an_fstring_hole": """\
graph walrus_in_an_fstring_hole(question, docs):
  %question = input  # walrus.py:46
  %docs = input  # walrus.py:46
  %prompt = python(%docs, %question) { prompt = f"Context: {(context := ' | '.join(docs))}\\nQ: {qu… }  # walrus.py:47
  %context = getitem(%prompt, index=1)  # walrus.py:47
  %prompt_1 = getitem(%prompt, index=0)  # walrus.py:47
  %answer = llm(f"{%prompt_1}", max_tokens=3) after %prompt  # walrus.py:47
  %result = python(%context, %answer) { result = context + answer }  # walrus.py:48
  return %result""",
    "walrus.walrus_on_a_regex_match": """\
graph walrus_on_a_regex_match(question):
  %question = input  # walrus.py:29
  %out = llm(f"Q: {%question}", max_tokens=4)  # walrus.py:30
  %m = python(%out) { m = re.search(r"\\d+", out) }  # walrus.py:31
  %result = cond(%m, %m) {  # walrus.py:31
      %m = input
      %field = python(%m) { field = m.group() }  # walrus.py:32
      %result = llm(f"Number {%field}", max_tokens=2)  # walrus.py:32
      return %result
  } else {
      %m = input
      %result = const('none')  # walrus.py:31
      return %result
  }
  return %result""",
}


@pytest.mark.parametrize("case_id", sorted(GOLDEN))
def test_corpus_graph_prints_as_golden_text(case_id: str) -> None:
    case = CASES[case_id]
    graph = case.wf.graph(*case.args, **case.kwargs)
    graph.lint()
    assert str(graph) == GOLDEN[case_id]
