// An edge gateway fed by the mesh: every mesh service is exposed as /{service}/**, forwarded through the mesh
// router (routes, lanes, ejection, warm-up), with the lane chosen at the edge from the "mesh-lane" cookie or the
// "x-canary" header, and client-sent x-mesh-lane / x-mesh-caller headers dropped.
//
//   MESH_CONFIG=examples/Mesh.Examples.Gateway/mesh.json dotnet run --project examples/Mesh.Examples.Gateway -- --urls http://127.0.0.1:8080
//   curl http://127.0.0.1:8080/orders/api/x -H 'x-user: beta-1'
//   curl http://127.0.0.1:8080/mesh/admin
var builder = WebApplication.CreateBuilder(args);
builder.Services.AddMesh(o => o.ServiceName ??= "gateway")
    .AddMeshAdmin()
    .AddMeshGateway(o =>
    {
        o.LaneFromCookie = "mesh-lane";
        o.LaneFromHeader = "x-canary";
        o.AllowedLanes.Add("gray");
    });

var app = builder.Build();
app.MapReverseProxy();
app.Run();
