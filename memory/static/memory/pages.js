// The memory page: the topic tree remembers which branches are open; the entity graph is drawn
// with cytoscape (zoom, pan, drag) and a click on an entity lists its memories beside it.
(function () {
  "use strict";

  var OPEN_TOPICS = "engram.memory.openTopics";

  function openTopics() {
    try { return JSON.parse(localStorage.getItem(OPEN_TOPICS) || "[]"); } catch (e) { return []; }
  }

  function rememberTopics() {
    var open = openTopics();
    document.querySelectorAll("#topics details[data-topic]").forEach(function (details) {
      if (open.indexOf(details.dataset.topic) !== -1) { details.open = true; }
      details.addEventListener("toggle", function () {
        var now = openTopics().filter(function (id) { return id !== details.dataset.topic; });
        if (details.open) { now.push(details.dataset.topic); }
        localStorage.setItem(OPEN_TOPICS, JSON.stringify(now));
      });
    });
  }

  function element(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text) { node.textContent = text; }
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    return node;
  }

  function showEntity(panel, url) {
    panel.classList.remove("muted");
    panel.replaceChildren(element("p", "Loading…"));
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (entity) {
        var heading = element("h3", entity.name + (entity.type ? " (" + entity.type + ")" : ""));
        var where = element("p", "", {"class": "muted"});
        where.append("in ", element("a", entity.project.workspace + " / " + entity.project.name,
                                     {href: entity.project.url, "class": "entity-project"}));
        var list = element("ul", "", {id: "entity-memories"});
        entity.memories.forEach(function (memory) {
          var item = element("li");
          item.append(element("a", memory.content, {href: memory.url}));
          list.append(item);
        });
        if (!entity.memories.length) { list.append(element("li", "No memory names it yet.", {"class": "muted"})); }
        panel.replaceChildren(heading, where, list);
      })
      .catch(function (error) { panel.replaceChildren(element("p", "Could not load: " + error.message, {"class": "error"})); });
  }

  function drawGraph() {
    var container = document.getElementById("graph");
    if (!container || typeof cytoscape !== "function") { return; }
    var panel = document.getElementById("entity-panel");
    fetch(container.dataset.graphUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.json(); })
      .then(function (graph) {
        if (!graph.nodes || !graph.nodes.length) {
          container.replaceChildren(element("p", "No entities yet.", {"class": "muted"}));
          return;
        }
        var elements = graph.nodes.map(function (node) {
          return {group: "nodes", data: {id: String(node.id), label: node.name, degree: node.degree}};
        }).concat(graph.edges.filter(function (edge) { return edge.source !== edge.target; }).map(function (edge) {
          return {group: "edges", data: {id: "e" + edge.id, source: String(edge.source), target: String(edge.target),
                                         label: edge.predicate}};
        }));
        var cy = cytoscape({
          container: container,
          elements: elements,
          wheelSensitivity: 0.3,
          minZoom: 0.1,
          maxZoom: 5,
          style: [
            {selector: "node", style: {"label": "data(label)", "font-size": 11, "background-color": "#4a7bd0",
                                       "width": "mapData(degree, 0, 20, 14, 40)", "height": "mapData(degree, 0, 20, 14, 40)",
                                       "text-valign": "top", "text-margin-y": -4}},
            {selector: "node:selected", style: {"background-color": "#d08a1a"}},
            {selector: "edge", style: {"width": 1.5, "line-color": "#bbb", "curve-style": "bezier",
                                       "target-arrow-shape": "triangle", "target-arrow-color": "#bbb",
                                       "label": "data(label)", "font-size": 9, "color": "#777",
                                       "text-rotation": "autorotate"}},
          ],
          // Force-directed, with room around each node so that labels do not sit on each other.
          layout: {name: "cose", animate: false, randomize: false, nodeOverlap: 20, idealEdgeLength: 90,
                   componentSpacing: 60, padding: 20},
        });
        // A handful of nodes fitted to the box would be drawn huge: start no closer than 1.5.
        if (cy.zoom() > 1.5) { cy.zoom(1.5); cy.center(); }
        cy.on("tap", "node", function (event) {
          showEntity(panel, container.dataset.entityUrl.replace(/0\/$/, event.target.id() + "/"));
        });
        container.dataset.ready = "true";
        window.engramGraph = cy;  // for the browser tests and the console
      });
  }

  rememberTopics();
  drawGraph();
}());
