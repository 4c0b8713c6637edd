// Starts Swagger UI on the page /api/docs/swagger/ (served by the API): the
// document's URL is the data-url of #swagger-ui. Nothing comes from another
// site: the validator badge (validator.swagger.io by default) is off.
(function () {
  var el = document.getElementById('swagger-ui');
  window.ui = SwaggerUIBundle({
    url: el.getAttribute('data-url'),
    domNode: el,
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
})();
