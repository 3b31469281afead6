from django.urls import path

from memory.pages import entities, listing, notes

app_name = "memory"
urlpatterns = [
    path("memory/", listing.memory_page, name="page"),
    path("memory/new/", notes.new_note, name="new"),
    path("memory/<int:pk>/", notes.memory_detail, name="detail"),
    path("memory/<int:pk>/delete/", notes.delete_memory, name="delete"),
    path("memory/entities/<int:entity_id>/", entities.entity_memories, name="entity"),
]
