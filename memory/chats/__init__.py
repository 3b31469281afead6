"""Chats: Telegram messages scored, grouped into topics and knowledge atoms, analysed and classified."""
