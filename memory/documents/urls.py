from django.urls import path

from . import views

app_name = "documents"
urlpatterns = [
    path("documents/", views.document_list, name="list"),
    path("documents/upload/", views.upload, name="upload"),
    path("documents/states/", views.states, name="states"),
    path("documents/search/", views.search_page, name="search"),
    path("documents/validation/", views.validation_queue, name="validation"),
    path("documents/validation/batch/", views.decide_batch, name="decide_batch"),
    path("documents/validation/<int:pk>/", views.decide, name="decide"),
    path("documents/<int:pk>/", views.detail, name="detail"),
    path("documents/<int:pk>/original/", views.original, name="original"),
    path("documents/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("documents/<int:pk>/pages/<int:number>.png", views.page_image, name="page_image"),
]
