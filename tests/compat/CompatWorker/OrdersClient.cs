namespace CompatWorker;

// A typed client as teams write them: the factory hands it an HttpClient whose BaseAddress is http://orders.
public sealed class OrdersClient(HttpClient http)
{
    public Task<HttpResponseMessage> GetAsync(string path) => http.GetAsync(path);
}
