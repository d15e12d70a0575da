"""Asking a paper: questions answered from its full text, in the paper's thread.

The full text comes through the FullTextSource port (arXiv's HTML, else its PDF) and is kept per paper and
version; the passages a question needs are picked locally (BM25) and only those go to the LLM, with the
thread's earlier questions and answers. Who may ask how often, and the month's budget, are decided here.
Imports the layers below it (digest, learning, scoring, domain) and the Store; the chat core calls it.
"""
